"""Demo risk file: dual-chamber pacemaker with a bedside remote monitor and cloud upload.

This product is the *complete* one of the demo: every hazard whose initial risk is not
acceptable has controls, every control is implemented by a requirement and has passing
implementation and effectiveness evidence, every requirement is tested, every SOUP item has its
anomalies reviewed, and every residual risk that is not acceptable carries a benefit-risk
justification. `manage.py riskcheck cadence-pacemaker` exits 0 on it.
"""

S, P, D = "safety", "security", "privacy"
APPROVED, IN_REVIEW, DRAFT = "approved", "in_review", "draft"
INHERENT, PROTECTIVE, INFORMATION = (
    "inherent_safety",
    "protective_measure",
    "information_for_safety",
)

SOFTWARE_VERSION = "4.1.0"
RELEASE_BASELINE = "Release 4.1.0"
CI_PREFIX = "https://ci.cadence.example/pm"

PRODUCT = {
    "slug": "cadence-pacemaker",
    "name": "Cadence DR pacemaker with HomeLink monitor",
    "model_number": "CDR-7 fw 4.1.0 / HomeLink 2.3",
    "manufacturer": "Cadence Cardiac Systems (demo)",
    "document_number": "RMF-PM-001",
    "software_safety_class": "C",
    "description": (
        "Implantable dual-chamber rate-responsive pacemaker (DDDR) with a bedside HomeLink "
        "monitor that interrogates the implant nightly over MICS-band RF and uploads the data to "
        "the CardiaLink cloud, where the clinic reviews alerts and episodes."
    ),
    "intended_use": (
        "The CDR-7 pacemaker is indicated for rate-adaptive pacing in patients with symptomatic "
        "bradycardia (sick sinus syndrome, second- or third-degree AV block). The HomeLink "
        "monitor and the CardiaLink service are intended for remote follow-up: they download "
        "the implant's stored data, assess it against clinic-configured alert criteria and make "
        "it available to the treating clinic. Remote monitoring does not reprogram therapy and is "
        "not an emergency service."
    ),
    "reasonably_foreseeable_misuse": (
        "Patient unplugs the monitor or places it in another room, so nightly sessions fail; "
        "monitor shared by two implanted household members or passed on to another patient; "
        "patient undergoes MRI without telling the radiology department; clinic relies on remote "
        "alerts instead of scheduled in-person follow-up; patient keeps a phone or induction "
        "cooktop directly over the implant; clinic staff export data to personal spreadsheets."
    ),
    "intended_users": (
        "Implanting electrophysiologists and cardiac device technicians (programming, in "
        "clinic); device clinic nurses reviewing remote data; patients (lay users, often over "
        "70, possibly with impaired vision or dexterity) who only place and power the monitor."
    ),
    "use_environment": (
        "Implant: patient's body, everyday life including travel and workplaces with "
        "electromagnetic fields. Monitor: patient's bedroom, mains powered, cellular (LTE-M) or "
        "home Wi-Fi. Cloud: hosted in two EU data centres. Clinic portal: hospital workstations "
        "behind the hospital's network."
    ),
    "connectivity": (
        "Implant ↔ HomeLink monitor: MICS 402–405 MHz RF after a 2.45 GHz wake-up, authenticated "
        "read-only session (the monitor holds no programming rights). Monitor ↔ CardiaLink cloud: "
        "LTE-M or Wi-Fi, TLS 1.3 with mutual authentication (device certificate per monitor), "
        "records signed with a per-device key. Cloud ↔ clinic portal: HTTPS with SSO and MFA. "
        "In-clinic programmer ↔ implant: separate, authenticated by programmer certificate "
        "(covered by RMF-PM-002)."
    ),
    "safety_characteristics": (
        "Life-sustaining therapy for pacemaker-dependent patients (ISO 14971 5.3): delivers "
        "electrical energy to the myocardium (0.1–7.5 V, 0.1–1.5 ms); senses intracardiac "
        "signals, so susceptible to electromagnetic interference; non-rechargeable battery with "
        "a projected longevity of 10 years; software-controlled therapy (IEC 62304 class C); "
        "implanted, not accessible for repair; data transmitted off the body to a cloud service "
        "holding health data."
    ),
    "verification_plan": (
        "Implementation of each control is verified by unit and integration tests in CI against "
        "the released build, by code inspection for design rules, and by inspection of labeling. "
        "Effectiveness is verified separately: heart-simulator bench tests of the pacing system, "
        "worst-case battery longevity projection, MRI testing per ISO/TS 10974, end-to-end "
        "remote-monitoring system tests with injected network faults, an independent penetration "
        "test, and a labeling comprehension study with 15 patients and 15 clinic nurses."
    ),
    "overall_residual_risk_method": (
        "Per RMP-PM-001 §8: the risk review board (cardiology, engineering, cybersecurity, "
        "quality) weighs all residual risks together against the clinical benefit of pacing and "
        "of remote follow-up (earlier detection of lead and battery problems, fewer clinic "
        "visits), compares them with the published performance of state-of-the-art pacemakers, "
        "and discloses the significant residual risks in the physician's manual."
    ),
    "post_production_plan": (
        "Monthly complaint and returned-product trending; quarterly literature, MAUDE and "
        "EUDAMED vigilance search; weekly monitoring of the SBOM components against NVD and CISA "
        "KEV; coordinated vulnerability disclosure with a 90-day window; fleet telemetry review "
        "of battery depletion and capture-loss rates; new hazards enter this file within 30 days."
    ),
    "review_conclusion": (
        "Risk management review before release of firmware 4.1.0 (2026-10-28): the plan was "
        "carried out, every control is verified for implementation and effectiveness, the "
        "overall residual risk is acceptable in relation to the benefit of pacing, and "
        "post-production monitoring is in place."
    ),
}

CONTROLS = [
    {"code": "RC-001", "title": "Beat-by-beat capture verification with backup pulse",
     "description": "After every ventricular pace the evoked response is checked; on loss of "
     "capture a backup pulse at 5.0 V / 1.0 ms follows within 100 ms.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-002", "title": "Output safety margin and high-output fallback",
     "description": "Automatic output is never below the measured threshold + 0.5 V nor below "
     "1.5 V; two consecutive losses of capture force 5.0 V / 1.0 ms until the next "
     "successful threshold search.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-003", "title": "Bounded RF wake-up budget",
     "description": "Outside the clinic the telemetry receiver accepts at most 12 sessions per "
     "24 h; the receiver duty cycle is set by a hardware timer firmware cannot extend.",
     "option": INHERENT, "security_category": "resilience",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-004", "title": "ERI / EOS battery alert to clinic and patient",
     "description": "The monitor transmits an elective-replacement alert at the next session "
     "and shows it on its display; the clinic portal flags it red until acknowledged.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-005", "title": "Labeling: follow-up schedule and meaning of ERI",
     "description": "Physician's manual and patient booklet state the in-person follow-up "
     "interval (every 12 months, every 3 months after ERI) and what ERI means.",
     "option": INFORMATION, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-006", "title": "Noise reversion to asynchronous pacing",
     "description": "Sustained noise in the refractory window switches to asynchronous pacing at "
     "the lower rate, so interference cannot inhibit pacing.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-007", "title": "Patient guidance on electromagnetic interference",
     "description": "Patient booklet: keep phones and induction cooktops 15 cm from the implant, "
     "walk through anti-theft gates without lingering, warn staff before diathermy.",
     "option": INFORMATION, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-008", "title": "Hard upper sensor rate and rate smoothing",
     "description": "Sensor-driven rate is capped at 180 bpm in firmware whatever is programmed, "
     "and may change by at most 6 bpm per cycle.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-009", "title": "Store-and-forward upload with missed-session notification",
     "description": "Alerts are queued on the monitor until acknowledged by the cloud; 72 h "
     "without a session notifies the clinic and shows a reminder on the monitor.",
     "option": PROTECTIVE, "security_category": "resilience",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-010", "title": "Labeling: remote monitoring is not an emergency service",
     "description": "Monitor label, patient booklet and portal banner: call emergency services "
     "for symptoms; data are reviewed during clinic hours.",
     "option": INFORMATION, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-011", "title": "Data association by implant serial verified at enrolment",
     "description": "Every record carries the implant serial read from the implant itself; "
     "enrolment matches implant serial and date of birth against the clinic's record.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-012", "title": "Signed records verified end to end",
     "description": "Each uploaded record is signed with HMAC-SHA256 under a per-device key "
     "provisioned at manufacture; the cloud rejects records that fail verification.",
     "option": PROTECTIVE, "security_category": "integrity",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-013", "title": "MR-conditional mode",
     "description": "Programmer-activated mode for MRI scans: asynchronous pacing, sensing and "
     "rate response off, so gradient fields cannot inhibit pacing.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-014", "title": "MR conditions in labeling and patient ID card",
     "description": "MR conditions (1.5 T / 3 T, SAR limits, exclusion zone) in the manual; the "
     "patient ID card states MR-conditional status and the need to program MR mode.",
     "option": INFORMATION, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-015", "title": "Automatic exit from MR mode",
     "description": "MR mode ends automatically after the programmed timeout (6–12 h) and "
     "returns to the permanent programme.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-016", "title": "Saturating 32-bit arithmetic and MISRA gate",
     "description": "Trend accumulators are 32-bit with saturating arithmetic; MISRA C:2012 "
     "rules 10.1–10.8 are enforced by the static-analysis gate of every build.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-017", "title": "IEC 60601-1 certified medical power supply",
     "description": "The monitor ships with a 2 × MOPP certified power supply with thermal "
     "cut-out.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-018", "title": "Authenticated telemetry sessions, monitor read-only",
     "description": "Sessions require a key derived per implant; programming commands are "
     "accepted only with a valid programmer certificate; the monitor's key grants read "
     "access only.",
     "option": INHERENT, "security_category": "authentication",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-019", "title": "Signed monitor firmware with secure boot",
     "description": "Monitor images are signed (ECDSA P-256); MCUboot verifies the signature and "
     "an anti-rollback counter before booting.",
     "option": INHERENT, "security_category": "patchability",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-020", "title": "Isolated test environments with synthetic data only",
     "description": "Staging and test stacks hold synthetic data only; infrastructure-as-code "
     "policy checks reject any public ingress rule outside the production load balancer.",
     "option": PROTECTIVE, "security_category": "authorization",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-021", "title": "TLS 1.3 with mutual authentication and pinning",
     "description": "The monitor accepts TLS 1.3 only, pins the CardiaLink CA and presents its "
     "device certificate; no fallback to older versions.",
     "option": PROTECTIVE, "security_category": "cryptography",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-022", "title": "Encryption at rest with field-level encryption of identifiers",
     "description": "Database and backups encrypted (AES-256, KMS keys per region); names, "
     "dates of birth and serials additionally encrypted at field level.",
     "option": PROTECTIVE, "security_category": "confidentiality",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-023", "title": "No storage of IP addresses or location",
     "description": "The ingestion service drops source IP addresses after the session and "
     "never stores cell IDs or geolocation.",
     "option": INHERENT, "security_category": "confidentiality",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-024", "title": "Privacy notice and consent at enrolment",
     "description": "Enrolment leaflet and consent form list the data sent, the recipients, the "
     "retention period and the patient's rights.",
     "option": INFORMATION, "implementation_status": "implemented", "status": APPROVED},
]  # fmt: skip

HAZARDS = [
    # --- Safety ------------------------------------------------------------------------------
    {
        "code": "HAZ-001", "category": S, "status": APPROVED, "hazard_type": "energy",
        "title": "Loss of capture after automatic output reduction",
        "hazard": "Pacing pulse energy below the myocardial capture threshold.",
        "sequence_of_events": "Threshold rises after lead maturation or a drug change; the "
        "automatic threshold search classifies fusion beats as captured and lowers the output "
        "below the true threshold.",
        "hazardous_situation": "Pacemaker-dependent patient receives pulses that do not "
        "depolarise the ventricle.",
        "harm": "Asystole, syncope with injury, death.",
        "severity": 5, "p1": 3, "p2": 4, "residual_severity": 5, "residual_p1": 1,
        "residual_p2": 3,
        "benefit_risk_region": "investigate",
        "further_control_not_practicable": "Output fallback (RC-001) and the beat-by-beat "
        "backup pulse (RC-002) already bound P1 and P2; a fixed high output without threshold "
        "search, the only further measure, would cost about two years of battery longevity.",
        "benefit_risk_benefits": "Automatic capture extends longevity by about two years and so "
        "avoids a replacement surgery (pocket infection risk 1–2 %).",
        "benefit_risk_justification": "Residual risk lies in the investigate region only "
        "because pacing failure is catastrophic by nature. Output fallback reduces P1 below "
        "10⁻⁴ per use (one use = one patient-year of implant service) and the backup pulse "
        "reduces P2, below the loss-of-capture rate reported for state-of-the-art "
        "automatic-capture pacemakers. The benefit outweighs the residual risk.",
        "controls": ["RC-001", "RC-002"],
        "software": [("SW-002", "defect", "Threshold search misclassifies fusion beats.")],
    },
    {
        "code": "HAZ-002", "category": S, "status": APPROVED, "hazard_type": "energy",
        "title": "Premature battery depletion stops pacing",
        "hazard": "Battery energy exhausted before the projected replacement.",
        "sequence_of_events": "Telemetry receiver woken far more often than specified (monitor "
        "retry loop or external wake-ups); drain goes unnoticed and ERI passes without follow-up.",
        "hazardous_situation": "Device reaches end of service while the patient depends on it.",
        "harm": "Loss of pacing: syncope, death; urgent replacement surgery.",
        "severity": 5, "p1": 3, "p2": 3, "residual_severity": 5, "residual_p1": 1,
        "residual_p2": 3,
        "benefit_risk_region": "investigate",
        "further_control_not_practicable": "The wake-up budget is bounded in hardware and ERI "
        "is signalled through two channels; a larger battery would enlarge the implant.",
        "benefit_risk_benefits": "Remote monitoring and wireless follow-up, which need the "
        "telemetry receiver, detect lead and rhythm problems months earlier.",
        "benefit_risk_justification": "Investigate region because end of service is "
        "catastrophic for dependent patients. The hardware-bounded wake-up budget caps extra "
        "drain at 3 % of longevity, and ERI is signalled at least 3 months before end of "
        "service through two independent channels. Remaining risk equals that of any "
        "battery-powered implant and is disclosed in the manual.",
        "controls": ["RC-003", "RC-004", "RC-005"],
        "software": [
            ("SW-004", "specification", "Wake-up schedule not bounded in the specification."),
            ("SW-005", "defect", "Battery voltage under load misread, ERI raised late."),
        ],
    },
    {
        "code": "HAZ-003", "category": S, "status": APPROVED, "hazard_type": "energy",
        "title": "Pacing inhibited by electromagnetic interference",
        "hazard": "External electromagnetic fields sensed as cardiac activity (oversensing).",
        "sequence_of_events": "Patient stands at an induction cooktop or lingers in an "
        "anti-theft gate; the 50 Hz field is sensed as R waves and pacing is inhibited.",
        "hazardous_situation": "Dependent patient without pacing for several seconds.",
        "harm": "Dizziness, syncope, fall with injury.",
        "severity": 4, "p1": 3, "p2": 4, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-006", "RC-007"],
        "software": [("SW-003", "defect", "Noise window too short for 50/60 Hz fields.")],
    },
    {
        "code": "HAZ-004", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Inappropriately high sensor-driven pacing rate",
        "hazard": "Pacing rate driven by the accelerometer without physical exertion.",
        "sequence_of_events": "Vibration in a car on cobblestones or a tumble dryer is "
        "interpreted as exercise; the rate climbs to the programmed maximum.",
        "hazardous_situation": "Patient with coronary disease paced at high rate at rest.",
        "harm": "Palpitations, angina, myocardial ischaemia needing treatment.",
        "severity": 3, "p1": 3, "p2": 3, "residual_severity": 3, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-008"],
        "software": [("SW-002", "specification", "No absolute cap on sensor rate specified.")],
    },
    {
        "code": "HAZ-005", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Remote alert not delivered to the clinic",
        "hazard": "Clinically relevant alert (lead noise, AF burden, ERI) lost in transit.",
        "sequence_of_events": "Cellular outage or a monitor unplugged for cleaning; the alert "
        "is dropped after a failed upload and the clinic sees a normal status.",
        "hazardous_situation": "Lead fracture or battery depletion unknown to the clinic for "
        "weeks.",
        "harm": "Delayed intervention: syncope or untreated atrial fibrillation (stroke risk) "
        "requiring medical treatment.",
        "severity": 3, "p1": 4, "p2": 3, "residual_severity": 3, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-009", "RC-010"],
        "software": [
            ("SW-012", "hw_sw_fault", "Cellular modem outage during upload."),
            ("SW-016", "soup_failure", "Queue lost on power failure during a database write."),
        ],
    },
    {
        "code": "HAZ-006", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Data attributed to the wrong patient",
        "hazard": "Another patient's episodes and diagnostics shown in a patient's record.",
        "sequence_of_events": "Refurbished monitor passed to a second patient, or two implanted "
        "spouses share one monitor; records are associated by monitor serial.",
        "hazardous_situation": "Clinician reviews and acts on data that are not the patient's.",
        "harm": "Inappropriate therapy change or missed treatment (e.g. anticoagulation not "
        "started), potentially permanent impairment (stroke).",
        "severity": 4, "p1": 3, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-011", "RC-012"],
        "software": [("SW-021", "specification", "Association keyed on the monitor serial.")],
    },
    {
        "code": "HAZ-007", "category": S, "status": APPROVED, "hazard_type": "energy",
        "title": "MRI scan without MR-conditional mode",
        "hazard": "Static, gradient and RF fields of an MRI scanner.",
        "sequence_of_events": "Patient is scanned without the clinic programming MR mode; "
        "gradient fields are oversensed and RF heats the lead tip.",
        "hazardous_situation": "Pacing inhibited and tissue heated during the scan.",
        "harm": "Asystole during the scan, threshold rise from tip heating, death.",
        "severity": 5, "p1": 2, "p2": 4, "residual_severity": 5, "residual_p1": 1,
        "residual_p2": 3,
        "benefit_risk_region": "investigate",
        "further_control_not_practicable": "MR mode and the patient ID card are in place; the "
        "scanner is outside the manufacturer's control, so no further device measure exists.",
        "benefit_risk_benefits": "Access to MRI diagnosis, otherwise denied to patients with "
        "an implant.",
        "benefit_risk_justification": "MR-conditional labeling lets patients receive MRI, a "
        "diagnostic benefit otherwise denied to them; the residual scenario needs the patient to "
        "hide the implant and staff to skip screening, which the ID card and screening "
        "questionnaires make improbable. Residual risk disclosed in the physician's manual.",
        "controls": ["RC-013", "RC-014"],
        "software": [("SW-002", "misuse", "Scan performed without programming MR mode.")],
    },
    {
        "code": "HAZ-008", "category": S, "status": APPROVED, "hazard_type": "energy",
        "title": "Competitive asynchronous pacing after the MRI scan",
        "hazard": "Asynchronous pacing competing with the patient's intrinsic rhythm.",
        "sequence_of_events": "MR mode (RC-013) is left on after the scan; a pulse falls in the "
        "vulnerable period of an intrinsic beat (R-on-T).",
        "hazardous_situation": "Patient with intrinsic rhythm paced asynchronously for hours.",
        "harm": "Ventricular fibrillation, death.",
        "severity": 5, "p1": 2, "p2": 2, "residual_severity": 5, "residual_p1": 1,
        "residual_p2": 2,
        "benefit_risk_region": "investigate",
        "further_control_not_practicable": "Asynchronous pacing is what makes the scan safe; "
        "the automatic timeout (RC-015) already bounds the exposure.",
        "benefit_risk_benefits": "Access to MRI diagnosis for pacemaker-dependent patients.",
        "benefit_risk_justification": "Hazard introduced by the MR mode (ISO 14971 7.5). The "
        "automatic timeout bounds the exposure to the programmed window; R-on-T induction of VF "
        "is rare (P2 < 10⁻³). The benefit of MRI access outweighs this residual risk.",
        "controls": ["RC-015", "RC-014"],
        "software": [("SW-002", "defect", "MR-mode exit timer not restarted after reset.")],
    },
    {
        "code": "HAZ-009", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Lead fracture missed through impedance-trend overflow",
        "hazard": "Arithmetic overflow in the lead-impedance trend.",
        "sequence_of_events": "Daily impedance sums are accumulated in a 16-bit integer; after "
        "high readings it wraps negative (the Ariane 5 failure mode), the trend check is "
        "skipped and a fracturing lead raises no alert.",
        "hazardous_situation": "Patient with a fracturing lead and no alert.",
        "harm": "Intermittent loss of pacing, syncope with injury.",
        "severity": 4, "p1": 3, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-016"],
        "software": [("SW-005", "defect", "16-bit accumulator wraps on high impedances.")],
    },
    {
        "code": "HAZ-010", "category": S, "status": APPROVED, "hazard_type": "energy",
        "title": "Monitor power supply overheating",
        "hazard": "Electrical energy in the monitor's mains adapter.",
        "sequence_of_events": "Adapter left under bedding; insulation overheats.",
        "hazardous_situation": "Patient touches a hot adapter.",
        "harm": "Minor skin burn.",
        "severity": 2, "p1": 3, "p2": 3, "residual_severity": 2, "residual_p1": 2,
        "residual_p2": 3,
        "controls": ["RC-017"],
    },
    # --- Security ----------------------------------------------------------------------------
    {
        "code": "HAZ-011", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Unauthorised reprogramming over RF telemetry",
        "asset": "Implant programming interface (therapy parameters)",
        "threat": "spoofing",
        "vulnerability": "Session set-up without cryptographic authentication lets any "
        "transmitter that speaks the protocol send programming commands (cf. the 2017 "
        "pacemaker firmware recall).",
        "hazard": "Therapy parameters changed by an unauthorised party.",
        "sequence_of_events": "Attacker within a few metres with a software-defined radio wakes "
        "the implant and sends commands lowering the output or raising the rate.",
        "hazardous_situation": "Patient paced with settings nobody prescribed.",
        "harm": "Loss of capture or rapid pacing: syncope, death.",
        "cvss_vector": "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "severity": 5, "residual_severity": 5,
        "residual_cvss_vector": "CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:H",
        "residual_cvss_rationale": "The base vector (the unauthenticated protocol) is "
        "unchanged; authenticated sessions (RC-018) add a precondition: a valid programmer "
        "certificate, so privileges required become High (PR:H).",
        "benefit_risk_region": "investigate",
        "further_control_not_practicable": "Sessions are authenticated with per-programmer "
        "certificates; the radio link itself cannot be removed from an implant.",
        "benefit_risk_benefits": "Wireless programming and follow-up without surgery.",
        "benefit_risk_justification": "Severity cannot be lowered for an implant; with "
        "authenticated sessions an attacker needs a stolen programmer certificate and "
        "proximity. Exploitability is very low, the residual risk is controlled pending review "
        "and disclosed under the coordinated vulnerability disclosure policy.",
        "controls": ["RC-018"],
        "leads_to": ["HAZ-001"],
        "software": [("SW-004", "defect", "Session key check missing in legacy command path.")],
    },
    {
        "code": "HAZ-012", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Battery-depletion attack by repeated wake-up",
        "asset": "Implant battery and telemetry receiver",
        "threat": "denial_of_service",
        "vulnerability": "The implant answers every valid wake-up pattern, so each attempt "
        "costs receiver energy even when the session is later refused.",
        "hazard": "Battery drained by an attacker.",
        "sequence_of_events": "Attacker transmits wake-up bursts every few seconds near the "
        "patient's home for weeks.",
        "hazardous_situation": "Battery reaches ERI years early.",
        "harm": "Early replacement surgery; loss of pacing if ERI is missed.",
        "cvss_vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        "severity": 4, "residual_severity": 3,
        "severity_reduction_rationale": "The hardware wake-up budget (RC-003) caps what an "
        "attacker can drain at 3 % of longevity and ERI is still signalled: the worst outcome "
        "becomes an earlier elective replacement (Serious), no longer an unnoticed loss of "
        "pacing.",
        "residual_cvss_vector": "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L",
        "residual_cvss_rationale": "The wake-up budget makes the attack need weeks of presence "
        "(AC:H) and limits the availability impact to a bounded drain (A:L).",
        "controls": ["RC-003", "RC-018"],
        "leads_to": ["HAZ-002"],
        "software": [("SW-004", "specification", "No limit on wake-ups in the specification.")],
    },
    {
        "code": "HAZ-013", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Internet-facing test server with production data",
        "asset": "CardiaLink staging environment",
        "threat": "elevation_of_privilege",
        "vulnerability": "A staging stack restored from a production backup was left reachable "
        "from the internet with default credentials (the 'test server never meant to face the "
        "internet' failure).",
        "hazard": "Attacker gains write access to patient alert configuration.",
        "sequence_of_events": "Scanner finds the staging host, logs in, reuses its service "
        "credentials against production and disables alert rules.",
        "hazardous_situation": "Clinic receives no alerts for affected patients.",
        "harm": "Delayed intervention (see HAZ-005).",
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
        "severity": 3, "residual_severity": 3,
        "residual_cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:L/I:L/A:N",
        "residual_cvss_rationale": "Environment isolation (RC-020) removes the internet-facing "
        "host and default credentials: an attacker needs privileged access (PR:H) and can "
        "reach only non-production data (C:L/I:L).",
        "controls": ["RC-020"],
        "leads_to": ["HAZ-005"],
        "software": [("SW-020", "specification", "Environment isolation not specified.")],
    },
    {
        "code": "HAZ-014", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Tampered monitor firmware update",
        "asset": "HomeLink monitor firmware",
        "threat": "tampering",
        "vulnerability": "Update images checked by CRC only; anyone able to serve an image can "
        "run code on the monitor.",
        "hazard": "Malicious code on a device next to the implant.",
        "sequence_of_events": "Attacker redirects the update download (DNS spoofing on home "
        "Wi-Fi) and installs firmware that suppresses alerts and floods wake-ups.",
        "hazardous_situation": "Monitor silently stops reporting and drains the implant.",
        "harm": "Missed ERI or lead alert; early battery depletion.",
        "cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "severity": 4, "residual_severity": 4,
        "residual_cvss_vector": "CVSS:3.1/AV:P/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:H",
        "residual_cvss_rationale": "Signed images with anti-rollback (RC-019) leave only the "
        "debug port of an opened monitor: physical access with privileges (AV:P, PR:H).",
        "controls": ["RC-019"],
        "leads_to": ["HAZ-005"],
        "software": [
            ("SW-014", "soup_failure", "Bootloader signature check bypass (published class "
             "of MCUboot anomalies)."),
            ("SW-010", "defect", "Updater skips verification after an interrupted download."),
        ],
    },
    {
        "code": "HAZ-015", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Man-in-the-middle on monitor uploads",
        "asset": "Episode and alert records in transit",
        "threat": "tampering",
        "vulnerability": "TLS library configured to accept TLS 1.2 fallback and any CA in the "
        "system store.",
        "hazard": "Uploaded records altered or dropped in transit.",
        "sequence_of_events": "Compromised home router presents a rogue certificate and strips "
        "alert records from uploads.",
        "hazardous_situation": "Clinic sees altered or incomplete data.",
        "harm": "Delayed intervention, misdiagnosis.",
        "cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N",
        "severity": 3, "residual_severity": 3,
        "residual_cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:N",
        "residual_cvss_rationale": "TLS 1.3 only with a pinned clinic CA (RC-021) means a "
        "rogue certificate is refused: the attacker needs the pinned CA's key (PR:H).",
        "controls": ["RC-021", "RC-012"],
        "software": [("SW-015", "soup_failure", "Permissive default cipher/version set.")],
    },
    # --- Privacy -----------------------------------------------------------------------------
    {
        "code": "HAZ-016", "category": D, "status": APPROVED, "hazard_type": "performance",
        "title": "Breach of the cloud patient database",
        "data_elements": ["names", "dates", "device_ids", "addresses", "mrn"],
        "linddun_category": "data_disclosure",
        "asset": "Identifiable cardiac health data of all enrolled patients (cloud database).",
        "hazard": "Unauthorised access to the patient database.",
        "sequence_of_events": "Attacker obtains a database snapshot through a misconfigured "
        "backup bucket.",
        "hazardous_situation": "Names, dates of birth, implant serials and diagnoses exposed.",
        "harm": "Disclosure of health status; discrimination, distress, fraud.",
        "severity": 4, "probability": 2, "residual_severity": 4, "residual_probability": 1,
        "benefit_risk_region": "investigate",
        "further_control_not_practicable": "Direct identifiers are encrypted field by field; "
        "the clinic must still identify its patients, so the data cannot be anonymised.",
        "benefit_risk_benefits": "Remote monitoring: earlier detection of arrhythmias and lead "
        "problems, fewer clinic visits.",
        "benefit_risk_justification": "Impact of a disclosure of cardiac data stays maximal "
        "by nature; with field-level encryption a stolen snapshot no longer exposes direct "
        "identifiers (HIPAA safe harbour for encrypted data). Remote monitoring cannot work "
        "without identifying the patient to the clinic; DPIA concluded proportionate.",
        "controls": ["RC-022"],
        "software": [("SW-023", "soup_failure", "Backup exported unencrypted by default.")],
    },
    {
        "code": "HAZ-017", "category": D, "status": APPROVED, "hazard_type": "performance",
        "title": "Location tracking from upload metadata",
        "data_elements": ["ip_addresses", "device_ids"],
        "linddun_category": "linking",
        "asset": "Upload metadata: home IP addresses and monitor serials.",
        "hazard": "Linking of IP addresses and serials over time.",
        "sequence_of_events": "Ingestion logs keep source IP addresses; analytics join them "
        "with monitor serials.",
        "hazardous_situation": "Patient's home and travel can be inferred from stored logs.",
        "harm": "Loss of privacy, distress.",
        "severity": 2, "probability": 3, "residual_severity": 2, "residual_probability": 1,
        "controls": ["RC-023"],
    },
    {
        "code": "HAZ-018", "category": D, "status": APPROVED, "hazard_type": "performance",
        "title": "Patient unaware of what the monitor transmits",
        "data_elements": ["names", "dates", "device_ids"],
        "linddun_category": "unawareness",
        "asset": "Transmitted episode, alert and identification data.",
        "hazard": "Processing of health data the data subject does not know about.",
        "sequence_of_events": "Monitor installed by a relative; nobody explains what is sent, "
        "to whom and for how long.",
        "hazardous_situation": "Patient cannot exercise GDPR rights or object.",
        "harm": "Loss of control over personal data, complaint to the supervisory authority.",
        "severity": 2, "probability": 3, "residual_severity": 2, "residual_probability": 1,
        "controls": ["RC-024"],
    },
]  # fmt: skip

INTRODUCED = [("RC-013", "HAZ-008")]

SOFTWARE_ITEMS = [
    {"code": "SW-001", "name": "CDR-7 implant firmware", "safety_class": "C",
     "description": "Bare-metal firmware of the implant.",
     "safety_class_rationale": "Controls life-sustaining pacing: a failure can cause death."},
    {"code": "SW-002", "name": "Pacing engine", "parent": "SW-001", "safety_class": "C",
     "description": "Timing cycles, capture management, rate response, MR mode.",
     "safety_class_rationale": "Delivers therapy; inherits class C."},
    {"code": "SW-003", "name": "Sensing and noise detection", "parent": "SW-001",
     "safety_class": "C", "description": "Sense amplifier control, refractory and noise windows.",
     "safety_class_rationale": "Oversensing inhibits pacing (HAZ-003)."},
    {"code": "SW-004", "name": "Telemetry and session security", "parent": "SW-001",
     "safety_class": "C", "description": "Wake-up, session authentication, command dispatch.",
     "safety_class_rationale": "Accepts programming commands (HAZ-011)."},
    {"code": "SW-005", "name": "Diagnostics and battery monitor", "parent": "SW-001",
     "safety_class": "C", "description": "Lead impedance trends, battery status, ERI.",
     "safety_class_rationale": "Missed ERI or lead alerts can lead to loss of pacing."},
    {"code": "SW-010", "name": "HomeLink monitor software", "safety_class": "C",
     "description": "Application on the bedside monitor (Zephyr RTOS).",
     "safety_class_rationale": "Carries alerts whose loss delays intervention (HAZ-005) and "
     "talks to the implant."},
    {"code": "SW-011", "name": "Implant interrogation client", "parent": "SW-010",
     "safety_class": "C", "description": "Read-only session with the implant.",
     "safety_class_rationale": "Wake-ups cost implant battery (HAZ-002)."},
    {"code": "SW-012", "name": "Store-and-forward uploader", "parent": "SW-010",
     "safety_class": "C", "description": "Alert queue, retries, missed-session reminder.",
     "safety_class_rationale": "Alert delivery (HAZ-005)."},
    {"code": "SW-013", "name": "Zephyr RTOS", "parent": "SW-010", "safety_class": "C",
     "is_soup": True, "manufacturer": "Zephyr Project (Linux Foundation)",
     "soup_version": "3.7.0 LTS", "purl": "pkg:github/zephyrproject-rtos/zephyr@v3.7.0",
     "licence": "Apache-2.0",
     "soup_requirements": "Pre-emptive scheduling with priority inheritance; watchdog "
     "support; deterministic timers (±1 ms); networking stack for LTE-M and Wi-Fi.",
     "soup_hardware_software": "nRF9160 SiP, 1 MB flash, 256 KB RAM.",
     "anomalies_reviewed_at": "2026-10-12",
     "anomalies_notes": "Zephyr security advisories and GitHub issues labelled 'bug' for "
     "v3.7 reviewed: 14 relevant, none affects the configured subsystems (no BLE mesh, no "
     "USB); two network-stack fixes taken with 3.7.1 backports.",
     "support_status": "supported", "end_of_support": "2027-07-31",
     "safety_class_rationale": "Runs the class C monitor application."},
    {"code": "SW-014", "name": "MCUboot", "parent": "SW-010", "safety_class": "C",
     "is_soup": True, "manufacturer": "MCUboot project (Linaro)", "soup_version": "2.1.0",
     "purl": "pkg:github/mcu-tools/mcuboot@v2.1.0", "licence": "Apache-2.0",
     "soup_requirements": "Verify ECDSA P-256 image signatures before boot; hardware "
     "anti-rollback counter; swap with revert on failed boot.",
     "anomalies_reviewed_at": "2026-10-12",
     "anomalies_notes": "Published advisories reviewed; the signature-bypass issue fixed in "
     "1.9 does not affect 2.1.0; no open anomaly in the configured swap-move mode.",
     "support_status": "supported",
     "safety_class_rationale": "Protects the integrity of the class C monitor software."},
    {"code": "SW-015", "name": "wolfSSL", "parent": "SW-010", "safety_class": "C",
     "is_soup": True, "manufacturer": "wolfSSL Inc.", "soup_version": "5.7.2",
     "purl": "pkg:github/wolfSSL/wolfssl@v5.7.2-stable", "licence": "GPL-2.0-or-later "
     "(commercial licence held)",
     "soup_requirements": "TLS 1.3 client with mutual authentication, certificate pinning, "
     "ECDHE P-256, AES-128-GCM; FIPS 140-3 validated module.",
     "anomalies_reviewed_at": "2026-10-12",
     "anomalies_notes": "wolfSSL vulnerability list reviewed; timing side channels in RSA do "
     "not apply (ECC only); TLS 1.2 disabled at compile time.",
     "support_status": "supported",
     "safety_class_rationale": "Protects alerts in transit (HAZ-015)."},
    {"code": "SW-016", "name": "SQLite", "parent": "SW-010", "safety_class": "C",
     "is_soup": True, "manufacturer": "SQLite Consortium (Hwaci)", "soup_version": "3.46.0",
     "purl": "pkg:generic/sqlite@3.46.0", "licence": "blessing (public domain)",
     "soup_requirements": "Atomic commit with WAL journal surviving power loss; queue of at "
     "most 10 000 records in 2 MB.",
     "anomalies_reviewed_at": "2026-10-12",
     "anomalies_notes": "SQLite CVE list reviewed: all listed issues need attacker-supplied "
     "SQL or schema; the monitor runs fixed statements only.",
     "support_status": "supported",
     "safety_class_rationale": "Holds queued alerts (HAZ-005)."},
    {"code": "SW-020", "name": "CardiaLink cloud service", "safety_class": "C",
     "description": "Ingestion, alert evaluation and clinic portal.",
     "safety_class_rationale": "Wrong-patient data can lead to serious injury (HAZ-006)."},
    {"code": "SW-021", "name": "Ingestion and patient association", "parent": "SW-020",
     "safety_class": "C", "description": "Verifies records, associates them with patients.",
     "safety_class_rationale": "Patient association (HAZ-006)."},
    {"code": "SW-022", "name": "Clinic portal", "parent": "SW-020", "safety_class": "C",
     "description": "Alert list, episode viewer, acknowledgement.",
     "safety_class_rationale": "Displays the data clinicians act on."},
    {"code": "SW-023", "name": "PostgreSQL", "parent": "SW-020", "safety_class": "C",
     "is_soup": True, "manufacturer": "PostgreSQL Global Development Group",
     "soup_version": "16.4", "purl": "pkg:generic/postgresql@16.4", "licence": "PostgreSQL",
     "soup_requirements": "ACID transactions, row-level security, encrypted replication; "
     "point-in-time recovery within 15 min.",
     "anomalies_reviewed_at": "2026-10-12",
     "anomalies_notes": "Release notes 16.1–16.4 and security advisories reviewed; 16.4 "
     "carries all fixes relevant to the features used.",
     "support_status": "supported", "end_of_support": "2028-11-09",
     "safety_class_rationale": "Stores patient association and alerts."},
    {"code": "SW-030", "name": "Service log exporter", "parent": "SW-010", "safety_class": "A",
     "description": "Exports anonymised monitor logs for field service on request.",
     "safety_class_rationale": "No contribution to any hazardous situation: reads logs only.",
     "segregation_note": "Runs as an unprivileged Zephyr user thread in its own memory "
     "partition (MPU); no write access to the alert queue or the telemetry session."},
]  # fmt: skip

REQUIREMENTS = [
    {"code": "SRS-001", "level": "system", "item": "SW-001",
     "title": "Pacing maintains capture",
     "text": "The pacing system shall maintain ventricular capture in every paced beat with a "
     "safety margin of at least 0.5 V above the measured threshold."},
    {"code": "SRS-002", "level": "system", "item": "SW-010",
     "title": "Alerts reach the clinic within 24 h",
     "text": "An alert raised by the implant shall be available in the clinic portal within "
     "24 h, or the clinic shall be notified that the patient is not transmitting."},
    {"code": "SRS-003", "level": "system", "item": "SW-020",
     "title": "Data shown in the right patient's record",
     "text": "Data from an implant shall be shown only in the record of the patient in whom "
     "that implant is registered."},
    {"code": "SRS-004", "level": "software", "parent": "SRS-001", "item": "SW-002",
     "controls": ["RC-001"], "title": "Backup pulse on loss of capture",
     "text": "On absence of an evoked response within 60 ms of a ventricular pace, the pacing "
     "engine shall deliver a backup pulse of 5.0 V / 1.0 ms within 100 ms."},
    {"code": "SRS-005", "level": "software", "parent": "SRS-001", "item": "SW-002",
     "controls": ["RC-002"], "title": "Output floor and fallback",
     "text": "The automatic output shall be ≥ max(threshold + 0.5 V, 1.5 V); after two "
     "consecutive losses of capture it shall be 5.0 V / 1.0 ms until a threshold search "
     "succeeds."},
    {"code": "SRS-006", "level": "software", "item": "SW-004", "controls": ["RC-003"],
     "title": "Wake-up budget",
     "text": "Outside a programmer session the implant shall accept at most 12 telemetry "
     "sessions per rolling 24 h and ignore further wake-ups."},
    {"code": "SRS-007", "level": "software", "parent": "SRS-002", "item": "SW-005",
     "controls": ["RC-004"], "title": "ERI alert",
     "text": "When the loaded battery voltage falls below 2.55 V on three consecutive daily "
     "measurements, the implant shall set ERI and report it at the next session."},
    {"code": "SRS-008", "level": "labeling", "controls": ["RC-005"],
     "title": "Follow-up schedule in labeling",
     "text": "The physician's manual and patient booklet shall state the follow-up intervals "
     "and the meaning of ERI in plain language."},
    {"code": "SRS-009", "level": "software", "item": "SW-003", "controls": ["RC-006"],
     "title": "Noise reversion",
     "text": "Sensed events at ≥ 10 Hz in the noise window for 3 cycles shall switch the "
     "channel to asynchronous pacing at the lower rate until noise stops."},
    {"code": "SRS-010", "level": "labeling", "controls": ["RC-007"],
     "title": "EMI guidance for patients",
     "text": "The patient booklet shall list common sources of interference and the distances "
     "to keep."},
    {"code": "SRS-011", "level": "software", "item": "SW-002", "controls": ["RC-008"],
     "title": "Absolute sensor-rate cap",
     "text": "The sensor-indicated rate shall not exceed 180 bpm nor change by more than "
     "6 bpm per cycle, whatever the programmed values."},
    {"code": "SRS-012", "level": "software", "parent": "SRS-002", "item": "SW-012",
     "controls": ["RC-009"], "title": "Store and forward",
     "text": "Alerts shall stay queued on the monitor until the cloud acknowledges them; 72 h "
     "without a successful session shall notify the clinic."},
    {"code": "SRS-013", "level": "labeling", "controls": ["RC-010"],
     "title": "Not an emergency service",
     "text": "Monitor label, booklet and portal banner shall state that remote monitoring is "
     "not an emergency service."},
    {"code": "SRS-014", "level": "software", "parent": "SRS-003", "item": "SW-021",
     "controls": ["RC-011"], "title": "Association by implant serial",
     "text": "Records shall be associated by the implant serial reported by the implant; "
     "enrolment shall require a match of implant serial and date of birth."},
    {"code": "SRS-015", "level": "security", "parent": "SRS-003", "item": "SW-021",
     "controls": ["RC-012"], "title": "Record signatures verified",
     "text": "The ingestion service shall reject any record whose HMAC-SHA256 under the "
     "device key does not verify, and log the rejection."},
    {"code": "SRS-016", "level": "software", "item": "SW-002", "controls": ["RC-013"],
     "title": "MR-conditional mode",
     "text": "MR mode, entered only from the programmer, shall pace asynchronously with "
     "sensing and rate response disabled."},
    {"code": "SRS-017", "level": "labeling", "controls": ["RC-014"],
     "title": "MR conditions and ID card",
     "text": "The manual shall state the MR conditions; the patient ID card shall state "
     "MR-conditional status and the need to program MR mode."},
    {"code": "SRS-018", "level": "software", "item": "SW-002", "controls": ["RC-015"],
     "title": "MR mode timeout",
     "text": "MR mode shall end after the programmed timeout (6–12 h) even across a device "
     "reset."},
    {"code": "SRS-019", "level": "software", "item": "SW-005", "controls": ["RC-016"],
     "title": "Saturating trend arithmetic",
     "text": "Trend accumulators shall be 32-bit and saturate instead of wrapping; the build "
     "shall fail on any MISRA C:2012 rule 10.x violation."},
    {"code": "SRS-020", "level": "system", "controls": ["RC-017"],
     "title": "Certified power supply",
     "text": "The monitor shall be supplied with a power supply certified to IEC 60601-1 "
     "(2 × MOPP) with thermal cut-out."},
    {"code": "SRS-021", "level": "security", "item": "SW-004", "controls": ["RC-018"],
     "title": "Authenticated sessions, read-only monitor",
     "text": "The implant shall refuse any session without a valid per-implant key and any "
     "programming command without a valid programmer certificate."},
    {"code": "SRS-022", "level": "security", "item": "SW-010", "controls": ["RC-019"],
     "title": "Signed firmware and anti-rollback",
     "text": "The monitor shall boot only images with a valid ECDSA P-256 signature and a "
     "version not lower than the anti-rollback counter."},
    {"code": "SRS-023", "level": "security", "item": "SW-020", "controls": ["RC-020"],
     "title": "No production data outside production",
     "text": "Non-production environments shall hold synthetic data only and expose no public "
     "ingress; the deployment pipeline shall reject plans that add one."},
    {"code": "SRS-024", "level": "security", "item": "SW-012", "controls": ["RC-021"],
     "title": "TLS 1.3 mutual authentication",
     "text": "The monitor shall connect with TLS 1.3 only, pin the CardiaLink CA and present "
     "its device certificate."},
    {"code": "SRS-025", "level": "privacy", "item": "SW-021", "controls": ["RC-022"],
     "title": "Encryption at rest",
     "text": "Patient data and backups shall be encrypted at rest; names, dates of birth and "
     "serials shall also be encrypted at field level."},
    {"code": "SRS-026", "level": "privacy", "item": "SW-021", "controls": ["RC-023"],
     "title": "No IP or location storage",
     "text": "The ingestion service shall not store source IP addresses beyond the session nor "
     "any location data."},
    {"code": "SRS-027", "level": "labeling", "controls": ["RC-024"],
     "title": "Privacy notice at enrolment",
     "text": "Enrolment material shall state the data sent, recipients, retention and the "
     "patient's rights, and record consent."},
    {"code": "SRS-028", "level": "software", "item": "SW-022",
     "title": "Portal shows alert age",
     "text": "The clinic portal shall show, for each alert, when it was raised in the implant "
     "and when it was received."},
    {"code": "SRS-029", "level": "software", "item": "SW-011",
     "title": "Read-only interrogation",
     "text": "The interrogation client shall use only read commands and at most one session "
     "per night."},
]  # fmt: skip

TEST_CASES = [
    # Requirement-level tests; each also verifies the implementation of its control.
    {"code": "TC-001", "title": "Backup pulse timing on loss of capture", "level": "integration",
     "requirements": ["SRS-004"], "implementation_of": ["RC-001"],
     "procedure": "Heart-simulator HIL rig: suppress evoked response on 1 000 paced beats; "
     "measure backup pulse delay and amplitude.",
     "runs": [(140, "fail", "4.0.2", "Backup delay 112 ms at 0.1 ms pulse width (PR-213)."),
              (96, "pass", "4.1.0-rc1", ""), (20, "pass", "4.1.0", "")]},
    {"code": "TC-002", "title": "Output floor and fallback", "level": "unit",
     "requirements": ["SRS-005"], "implementation_of": ["RC-002"],
     "procedure": "Unit tests of the output controller over the threshold range 0.25–5.0 V."},
    {"code": "TC-003", "title": "Wake-up budget enforcement", "level": "integration",
     "requirements": ["SRS-006"], "implementation_of": ["RC-003"],
     "procedure": "Send 200 wake-ups in 24 h from a test transmitter; count accepted sessions."},
    {"code": "TC-004", "title": "ERI detection and reporting", "level": "integration",
     "requirements": ["SRS-007"], "implementation_of": ["RC-004"],
     "procedure": "Battery emulator steps below 2.55 V; check ERI flag and monitor alert."},
    {"code": "TC-005", "title": "Labeling inspection: follow-up and ERI", "method": "inspection",
     "level": "system", "requirements": ["SRS-008"], "implementation_of": ["RC-005"],
     "procedure": "Check manual §7 and booklet p. 12 against SRS-008."},
    {"code": "TC-006", "title": "Noise reversion at 50 and 60 Hz", "level": "integration",
     "requirements": ["SRS-009"], "implementation_of": ["RC-006"],
     "procedure": "Inject 50/60 Hz at 0.5–5 mV into the sense channel; verify asynchronous "
     "pacing within 3 cycles.",
     "runs": [(120, "fail", "4.0.2", "No reversion at 60 Hz / 0.5 mV (PR-221)."),
              (30, "pass", "4.1.0", "")]},
    {"code": "TC-007", "title": "Labeling inspection: EMI guidance", "method": "inspection",
     "level": "system", "requirements": ["SRS-010"], "implementation_of": ["RC-007"],
     "procedure": "Check booklet chapter 4 against SRS-010."},
    {"code": "TC-008", "title": "Sensor-rate cap", "level": "unit",
     "requirements": ["SRS-011"], "implementation_of": ["RC-008"],
     "procedure": "Drive the accelerometer model with maximal input; programmed max 200 bpm."},
    {"code": "TC-009", "title": "Store and forward across outages", "level": "integration",
     "requirements": ["SRS-012"], "implementation_of": ["RC-009"],
     "procedure": "Cut the network for 1 h, 24 h and 80 h; pull power during upload."},
    {"code": "TC-010", "title": "Labeling inspection: not an emergency service",
     "method": "inspection", "level": "system", "requirements": ["SRS-013"],
     "implementation_of": ["RC-010"], "procedure": "Inspect label, booklet and portal banner."},
    {"code": "TC-011", "title": "Association by implant serial", "level": "integration",
     "requirements": ["SRS-014"], "implementation_of": ["RC-011"],
     "procedure": "Enrol two patients on one monitor; swap monitors; check each record."},
    {"code": "TC-012", "title": "Record signature verification", "level": "integration",
     "requirements": ["SRS-015"], "implementation_of": ["RC-012"],
     "procedure": "Upload records with flipped bits and wrong keys; expect rejection and log."},
    {"code": "TC-013", "title": "MR mode behaviour", "level": "integration",
     "requirements": ["SRS-016"], "implementation_of": ["RC-013"],
     "procedure": "Program MR mode; verify DOO pacing, sensing off, rate response off."},
    {"code": "TC-014", "title": "Labeling inspection: MR conditions and ID card",
     "method": "inspection", "level": "system", "requirements": ["SRS-017"],
     "implementation_of": ["RC-014"], "procedure": "Inspect manual §9 and the ID card proof."},
    {"code": "TC-015", "title": "MR mode timeout across reset", "level": "integration",
     "requirements": ["SRS-018"], "implementation_of": ["RC-015"],
     "procedure": "Program 6 h timeout, force a reset after 2 h, verify exit at 6 h ± 1 min."},
    {"code": "TC-016", "title": "Static analysis gate and overflow unit tests", "level": "unit",
     "method": "analysis", "requirements": ["SRS-019"], "implementation_of": ["RC-016"],
     "procedure": "MISRA report of the release build; unit tests feeding 65 535 Ω readings."},
    {"code": "TC-017", "title": "Power supply certificate inspection", "method": "inspection",
     "level": "system", "requirements": ["SRS-020"], "implementation_of": ["RC-017"],
     "procedure": "Check CB certificate and test report of the supplied adapter."},
    {"code": "TC-018", "title": "Session authentication and read-only monitor",
     "level": "integration", "requirements": ["SRS-021"], "implementation_of": ["RC-018"],
     "procedure": "Attempt sessions with no key, wrong key and monitor key issuing programming "
     "commands."},
    {"code": "TC-019", "title": "Secure boot and anti-rollback", "level": "integration",
     "requirements": ["SRS-022"], "implementation_of": ["RC-019"],
     "procedure": "Boot unsigned, wrongly signed and older signed images."},
    {"code": "TC-020", "title": "Infrastructure policy checks", "level": "system",
     "method": "analysis", "requirements": ["SRS-023"], "implementation_of": ["RC-020"],
     "procedure": "Run the policy suite against plans adding public ingress to staging."},
    {"code": "TC-021", "title": "TLS configuration", "level": "integration",
     "requirements": ["SRS-024"], "implementation_of": ["RC-021"],
     "procedure": "Offer TLS 1.2, a rogue CA and no client certificate; expect refusal."},
    {"code": "TC-022", "title": "Encryption at rest review", "level": "system",
     "method": "inspection", "requirements": ["SRS-025"], "implementation_of": ["RC-022"],
     "procedure": "Inspect KMS configuration; read raw pages and backups for plaintext."},
    {"code": "TC-023", "title": "No IP or location retained", "level": "integration",
     "requirements": ["SRS-026"], "implementation_of": ["RC-023"],
     "procedure": "Upload from known addresses; search logs and tables for them after 1 h."},
    {"code": "TC-024", "title": "Labeling inspection: privacy notice", "method": "inspection",
     "level": "system", "requirements": ["SRS-027"], "implementation_of": ["RC-024"],
     "procedure": "Inspect enrolment leaflet and consent form against SRS-027."},
    {"code": "TC-025", "title": "Portal alert timestamps", "level": "integration",
     "requirements": ["SRS-028"], "procedure": "Raise an alert at a known time; check both "
     "timestamps in the portal."},
    {"code": "TC-026", "title": "Interrogation is read-only", "level": "integration",
     "requirements": ["SRS-029"], "procedure": "Trace all commands of 30 nightly sessions."},
    # System and validation tests: effectiveness of the controls (ISO 14971 7.2).
    {"code": "TC-030", "title": "Heart-simulator verification of the pacing system",
     "level": "system", "requirements": ["SRS-001"],
     "effectiveness_of": ["RC-001", "RC-002", "RC-006", "RC-008", "RC-016"],
     "procedure": "72 h on the heart simulator with threshold drift, fusion beats, 50/60 Hz "
     "noise, vibration profiles and extreme lead impedances; no unpaced interval > 2 s."},
    {"code": "TC-031", "title": "Worst-case longevity projection", "level": "system",
     "method": "analysis", "effectiveness_of": ["RC-003", "RC-004"],
     "procedure": "Current-drain model with the wake-up budget saturated for 10 years; ERI "
     "lead time ≥ 3 months."},
    {"code": "TC-032", "title": "Remote monitoring end-to-end with network faults",
     "level": "system", "requirements": ["SRS-002", "SRS-003"],
     "effectiveness_of": ["RC-009", "RC-011", "RC-012"],
     "procedure": "50 monitors, scripted outages and monitor swaps over 30 days; every alert "
     "reaches the right record within 24 h or a no-transmission notice is raised."},
    {"code": "TC-033", "title": "MRI testing per ISO/TS 10974", "level": "system",
     "effectiveness_of": ["RC-013", "RC-015"],
     "procedure": "RF heating, gradient-induced extrinsic voltage and malfunction tests at "
     "1.5 T and 3 T (external lab report)."},
    {"code": "TC-034", "title": "Labeling comprehension study", "level": "validation",
     "method": "demonstration",
     "effectiveness_of": ["RC-005", "RC-007", "RC-010", "RC-014", "RC-024"],
     "procedure": "15 patients and 15 clinic nurses answer knowledge tasks from the labeling; "
     "acceptance 90 % correct per task."},
    {"code": "TC-035", "title": "Independent penetration test", "level": "system",
     "effectiveness_of": ["RC-018", "RC-019", "RC-020", "RC-021", "RC-022", "RC-023"],
     "procedure": "Grey-box test of implant RF, monitor, cloud and portal by an external lab; "
     "no finding above CVSS 4.0 left open.",
     "runs": [(110, "fail", "4.0.2", "Staging host reachable from the internet (finding "
              "F-03)."), (25, "pass", "4.1.0", "All findings closed; retest report PT-2026-09.")]},
    {"code": "TC-036", "title": "Electrical safety of the monitor", "level": "system",
     "effectiveness_of": ["RC-017"],
     "procedure": "IEC 60601-1 temperature and fault tests with the adapter covered."},
]  # fmt: skip
