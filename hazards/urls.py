from django.urls import path

app_name = "hazards"
urlpatterns = []
