"""Demo risk file: smart large-volume infusion pump with barcode scanning, drug library over
hospital Wi-Fi and auto-programming from the electronic health record.

A file under change, with deliberate gaps that the coverage report and `riskcheck` find:

* SW-007 (lwIP) is SOUP whose published anomalies have not been reviewed yet;
* SW-004 (barcode decoder) is recorded as class B but contributes to a catastrophic
  wrong-patient hazard, so IEC 62304 4.3 asks for class C;
* SRS-004 (soft-limit override) was changed after CAPA-118, so its links to RC-001 and to
  TC-004 are suspect until someone reviews them;
* TC-011 (battery runtime at 40 °C) was blocked on its latest run, so RC-011's implementation
  is not verified;
* RC-022 (pseudonymisation) has no effectiveness verification yet.
"""

S, P, D = "safety", "security", "privacy"
APPROVED, IN_REVIEW, DRAFT = "approved", "in_review", "draft"
INHERENT, PROTECTIVE, INFORMATION = (
    "inherent_safety",
    "protective_measure",
    "information_for_safety",
)

SOFTWARE_VERSION = "2.8.1"
CI_PREFIX = "https://ci.vela.example/lvp"

PRODUCT = {
    "slug": "vela-infusion-pump",
    "name": "Vela smart infusion pump",
    "model_number": "LVP-8 fw 2.8.1 / Safety Server 5.2",
    "manufacturer": "Vela Infusion Systems (demo)",
    "document_number": "RMF-INF-001",
    "software_safety_class": "C",
    "description": (
        "Large-volume volumetric infusion pump with an integrated 2D barcode reader for IV-bag "
        "and patient-wristband labels, a drug library with hard and soft limits distributed "
        "over the hospital Wi-Fi by the Vela Safety Server, and auto-programming from EHR "
        "orders (IHE PCD)."
    ),
    "intended_use": (
        "Controlled intravenous, intra-arterial, subcutaneous and epidural infusion of fluids, "
        "medications, blood and blood products at 0.1–1 200 mL/h (e.g. heparin at 10.0 mL/h) "
        "in hospitals, by trained clinicians. The Safety Server distributes drug libraries and "
        "EHR orders to the pumps and collects infusion events; it does not start or change a "
        "running infusion."
    ),
    "reasonably_foreseeable_misuse": (
        "Bypassing the drug library with 'basic infusion'; scanning a wristband taped to the "
        "bed rail instead of the patient; overriding soft limits without reading the warning; "
        "removing the set from the pump with the roller clamp open; using a pump whose library "
        "is months old; connecting the pump to the guest Wi-Fi; keying 100 instead of 10.0."
    ),
    "intended_users": (
        "Registered nurses and anaesthetists (programming), pharmacists (drug library), "
        "biomedical engineers (configuration, maintenance), hospital IT (network, Safety "
        "Server); patients are not users."
    ),
    "use_environment": (
        "ICU, operating theatre, general wards, emergency department and intra-hospital "
        "transport; hospital clinical Wi-Fi (WPA2/WPA3-Enterprise); Safety Server on a "
        "hospital-hosted virtual machine; EHR interface through the hospital integration engine."
    ),
    "connectivity": (
        "Pump ↔ Safety Server: Wi-Fi, TLS 1.3 with mutual authentication (device certificate "
        "in a secure element); drug libraries signed by the pharmacy approver and verified by "
        "the pump. Safety Server ↔ EHR: HL7 v2 / IHE PCD-01/03 over TLS through the integration "
        "engine. Pump ↔ barcode labels: on-board 2D imager (GS1 DataMatrix, Code 128). No "
        "inbound service port on the pump; no internet connection required."
    ),
    "safety_characteristics": (
        "Delivers drugs including high-alert medications (heparin, insulin, opioids, "
        "vasopressors) intravenously (ISO 14971 5.3); volumetric accuracy ±5 %; air-in-line, "
        "occlusion and free-flow protection; mains and battery powered (4 h at 25 mL/h); "
        "software-controlled delivery with an independent safety processor (IEC 62304 class "
        "C); stores patient identifiers from wristband scans."
    ),
    "verification_plan": (
        "Implementation: unit and integration tests in CI, static analysis, inspection of "
        "labeling and of the customer security documentation. Effectiveness: IEC 60601-2-24 "
        "accuracy and occlusion tests, air-in-line detection bench tests, simulated-use "
        "studies in a mock ICU with 20 nurses (IEC 62366-1), an independent penetration test "
        "on a replica hospital network, and an interoperability test with two EHR vendors."
    ),
    "overall_residual_risk_method": (
        "Per RMP-INF-001 §8: the risk review board weighs all residual risks together against "
        "the benefit of smart-pump technology (interception of programming errors by dose "
        "limits and barcode checks, documented in the literature) and against the residual "
        "risks of conventional pumps; residual risks in the investigate region are disclosed "
        "in the operator's manual and in the MDS2 form."
    ),
    "post_production_plan": (
        "Complaint and service-report trending monthly; analysis of drug-library override "
        "data from customer Safety Servers quarterly (CQI reports); MAUDE and recall search "
        "quarterly; SBOM vulnerability monitoring weekly with customer security bulletins; "
        "coordinated vulnerability disclosure; new hazards into this file within 30 days."
    ),
}

CONTROLS = [
    {"code": "RC-001", "title": "Drug library with hard and soft limits",
     "description": "Per care area and drug concentration: hard limits block, soft limits "
     "need an override with a reason; limits on rate, dose and bolus.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-002", "title": "Auto-programming from the EHR order",
     "description": "Scanning patient and bag fetches the matching order; rate and volume "
     "are filled in from the order instead of being keyed.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-003", "title": "Rate confirmation with order-of-magnitude warning",
     "description": "Confirmation screen shows rate with emphasised decimal point and no "
     "trailing zeros; a rate ≥ 10× the library's typical rate needs a second confirmation.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-004", "title": "Positive patient identification by wristband scan",
     "description": "Infusion start requires a wristband scan matching the order's patient; "
     "an override needs a reason and is logged to the Safety Server.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-005", "title": "Bag barcode with concentration cross-check",
     "description": "GS1 DataMatrix decoded including concentration and volume; mismatch with "
     "the library entry or the order blocks the start.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-006", "title": "Anti-free-flow clip in the administration set",
     "description": "The set's clip closes automatically when the set is removed from the pump.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-007", "title": "Door-open alarm with automatic clamp",
     "description": "Opening the door stops the pump, closes the set clamp and alarms.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-008", "title": "Ultrasonic air-in-line detection",
     "description": "Single bubble ≥ 50 µL or 1 mL accumulated in 15 min stops the pump.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-009", "title": "Downstream occlusion pressure alarm",
     "description": "Pressure sensor alarms at the selected threshold (low/medium/high) "
     "and releases the bolus pressure before resuming.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-010", "title": "Library version display and compliance dashboard",
     "description": "Pump shows the library version at start; the server lists pumps not on "
     "the current library for more than 24 h.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-011", "title": "Battery runtime display and 30-minute alarm",
     "description": "Remaining runtime at the current rate shown on battery; alarm 30 min "
     "before shutdown.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-012", "title": "Checked arithmetic and independent rate cross-check",
     "description": "Dose-mode conversions in 64-bit checked fixed point; the safety "
     "processor recomputes the rate and stops the motor on disagreement > 1 %.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-013", "title": "Order version check before start",
     "description": "Before start the pump re-queries the order version; a changed or "
     "discontinued order blocks the start; the order time is shown on confirmation.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": IN_REVIEW},
    {"code": "RC-014", "title": "Operator training and IFU workflow",
     "description": "Scan-before-start workflow, clamping before set removal, meaning of "
     "soft-limit warnings; competency check at go-live.",
     "option": INFORMATION, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-015", "title": "Mutual TLS only; network cannot change a running infusion",
     "description": "All pump connections use mutual TLS; Telnet, FTP and debug ports are "
     "removed from production builds; network messages cannot start or modify a running "
     "infusion.",
     "option": INHERENT, "security_category": "authentication",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-016", "title": "Signed drug-library packages",
     "description": "Libraries are signed with the pharmacy approver's key; the pump "
     "verifies signature and version before activation.",
     "option": PROTECTIVE, "security_category": "integrity",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-017", "title": "Network segmentation and server hardening guide",
     "description": "Customer security guide: pumps and Safety Server in a dedicated VLAN, no "
     "inbound internet, test systems isolated; hardened server image.",
     "option": INFORMATION, "security_category": "authorization",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-018", "title": "Credentials in secure element, wiped at decommissioning",
     "description": "Wi-Fi and TLS credentials live in the secure element; service-mode "
     "decommissioning erases them and the event log.",
     "option": PROTECTIVE, "security_category": "confidentiality",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-019", "title": "Full offline operation and protected management frames",
     "description": "Every infusion function works without network; 802.11w protected "
     "management frames enabled.",
     "option": INHERENT, "security_category": "resilience",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-020", "title": "Patient identifiers purged at end of infusion",
     "description": "Names and MRNs from wristband scans are deleted from the pump when the "
     "infusion ends; the pump log keeps a pseudonymous infusion ID.",
     "option": INHERENT, "security_category": "confidentiality",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-021", "title": "TLS on the EHR interface",
     "description": "HL7 traffic between server and integration engine over TLS 1.2+ with "
     "certificate validation.",
     "option": PROTECTIVE, "security_category": "cryptography",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-022", "title": "Pseudonymisation after 30 days",
     "description": "Infusion history older than 30 days is pseudonymised for CQI reports; "
     "identifiable records deleted after the hospital's retention period.",
     "option": PROTECTIVE, "security_category": "confidentiality",
     "implementation_status": "in_progress", "status": IN_REVIEW},
]  # fmt: skip

HAZARDS = [
    # --- Safety ------------------------------------------------------------------------------
    {
        "code": "HAZ-001", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Ten-fold rate from a keying error",
        "hazard": "Infusion rate ten times the prescribed rate.",
        "sequence_of_events": "Use error (IEC 62366-1): "
        "Nurse programs heparin at 10.0 mL/h, misses the decimal point "
        "and keys 100 mL/h; no limit catches it in 'basic infusion'.",
        "hazardous_situation": "Patient receives a ten-fold heparin dose over hours.",
        "harm": "Major haemorrhage, death.",
        "severity": 5, "p1": 4, "p2": 3, "residual_severity": 5, "residual_p1": 2,
        "residual_p2": 2,
        "benefit_risk_justification": "Residual risk stays in the investigate region because "
        "ten-fold errors with high-alert drugs are potentially fatal. Auto-programming removes "
        "keying for ordered infusions and the library intercepts the rest; only a deliberate "
        "bypass of both remains. Smart pumps are the recognised state of the art for reducing "
        "these errors; benefit outweighs.",
        "controls": ["RC-001", "RC-002", "RC-003", "RC-014"],
        "software": [("SW-002", "misuse", "Basic infusion used to bypass the library.")],
    },
    {
        "code": "HAZ-002", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Infusion given to the wrong patient",
        "hazard": "Medication intended for another patient.",
        "sequence_of_events": "Use error (IEC 62366-1): "
        "Two patients with similar names in one bay; the nurse scans a "
        "wristband taped to the wrong bed rail, or a truncated scan matches a prefix.",
        "hazardous_situation": "Patient receives a drug and dose ordered for someone else.",
        "harm": "Anaphylaxis, respiratory depression (opioid), death.",
        "severity": 5, "p1": 3, "p2": 3, "residual_severity": 5, "residual_p1": 1,
        "residual_p2": 3,
        "benefit_risk_justification": "Barcode positive patient identification is the "
        "strongest available control; the remaining path needs a deliberate workaround of the "
        "scan, which the override log makes visible to nursing management. Residual risk "
        "disclosed; benefit of bar-code medication administration outweighs.",
        "controls": ["RC-004", "RC-014"],
        "software": [("SW-004", "defect", "Truncated wristband code accepted as a match.")],
    },
    {
        "code": "HAZ-003", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Concentration mismatch between bag and library entry",
        "hazard": "Drug concentration differs from the one the pump calculates with.",
        "sequence_of_events": "Pharmacy switches from heparin 25 000 U/500 mL to 25 000 U/250 mL; "
        "the nurse selects the old entry.",
        "hazardous_situation": "Patient receives twice the intended dose.",
        "harm": "Bleeding requiring transfusion, permanent impairment.",
        "severity": 4, "p1": 3, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-005", "RC-001"],
        "software": [("SW-004", "defect", "Concentration field of GS1 code ignored.")],
    },
    {
        "code": "HAZ-004", "category": S, "status": APPROVED, "hazard_type": "energy",
        "title": "Free flow when the set is removed",
        "hazard": "Gravity free flow of the infusion.",
        "sequence_of_events": "Set removed from the pump during an alarm with the roller clamp "
        "open.",
        "hazardous_situation": "Uncontrolled bolus of the bag contents.",
        "harm": "Overdose of a potent drug, death.",
        "severity": 5, "p1": 3, "p2": 3, "residual_severity": 5, "residual_p1": 1,
        "residual_p2": 2,
        "benefit_risk_justification": "The automatic anti-free-flow clip removes the hazard "
        "for Vela sets; the residual case is a third-party set without a clip, against which "
        "the IFU warns. Benefit of volumetric infusion outweighs.",
        "controls": ["RC-006", "RC-007", "RC-014"],
    },
    {
        "code": "HAZ-005", "category": S, "status": APPROVED, "hazard_type": "energy",
        "title": "Air infused undetected",
        "hazard": "Air in the patient line.",
        "sequence_of_events": "Bag runs dry with a vented set; micro-bubbles accumulate below a "
        "single-bubble threshold.",
        "hazardous_situation": "Several millilitres of air reach the patient.",
        "harm": "Air embolism requiring intervention.",
        "severity": 4, "p1": 3, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-008"],
        "software": [("SW-003", "specification", "No accumulated-air criterion specified.")],
    },
    {
        "code": "HAZ-006", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Vasopressor interrupted by an unnoticed occlusion",
        "hazard": "Interruption of a life-sustaining infusion.",
        "sequence_of_events": "Catheter kinks under the patient; the high occlusion threshold "
        "delays the alarm by 40 minutes at 2 mL/h.",
        "hazardous_situation": "No noradrenaline delivered to a patient in shock.",
        "harm": "Severe hypotension, organ damage.",
        "severity": 4, "p1": 3, "p2": 4, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-009"],
        "software": [("SW-002", "specification", "Time to alarm not bounded at low rates.")],
    },
    {
        "code": "HAZ-007", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Pump running an outdated drug library",
        "hazard": "Dose limits that no longer match hospital practice.",
        "sequence_of_events": "Library push fails silently for pumps in a Wi-Fi dead zone; a "
        "new concentration is missing, so nurses use basic infusion.",
        "hazardous_situation": "High-alert drug infused without any limit.",
        "harm": "Overdose requiring intervention, permanent impairment.",
        "severity": 4, "p1": 3, "p2": 3, "residual_severity": 4, "residual_p1": 2,
        "residual_p2": 2,
        "controls": ["RC-010"],
        "software": [("SW-005", "defect", "Failed download not reported to the server.")],
    },
    {
        "code": "HAZ-008", "category": S, "status": IN_REVIEW, "hazard_type": "energy",
        "title": "Battery exhausted during patient transport",
        "hazard": "Loss of power stops the infusion.",
        "sequence_of_events": "Pump unplugged for a CT transfer with an aged battery.",
        "hazardous_situation": "Infusion stops in the lift or scanner room.",
        "harm": "Interruption of sedation or vasopressor requiring intervention.",
        "severity": 3, "p1": 3, "p2": 4, "residual_severity": 3, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-011"],
        "software": [("SW-002", "defect", "Runtime estimate ignores battery ageing.")],
    },
    {
        "code": "HAZ-009", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Rate overflow in dose-mode conversion",
        "hazard": "Wrong rate computed from a weight-based dose.",
        "sequence_of_events": "Dose in mcg/kg/min for a 180 kg patient overflows a 16-bit "
        "intermediate in the conversion to mL/h (the Ariane 5 failure mode) and wraps to a "
        "small or large rate.",
        "hazardous_situation": "Patient receives a rate unrelated to the order.",
        "harm": "Under- or overdose of a vasoactive drug, death.",
        "severity": 5, "p1": 2, "p2": 4, "residual_severity": 5, "residual_p1": 1,
        "residual_p2": 3,
        "benefit_risk_justification": "Checked 64-bit arithmetic removes the defect class and "
        "the independent safety processor stops any disagreement within one motor step; the "
        "residual case needs a common-mode fault in both processors. Residual risk accepted in "
        "view of the benefit of weight-based dosing.",
        "controls": ["RC-012", "RC-001"],
        "software": [
            ("SW-002", "defect", "16-bit intermediate in unit conversion."),
            ("SW-003", "hw_sw_fault", "Cross-check disabled when the safety processor resets."),
        ],
    },
    {
        "code": "HAZ-010", "category": S, "status": IN_REVIEW, "hazard_type": "performance",
        "title": "Pump auto-programmed from a superseded order",
        "hazard": "Order data that no longer reflect the prescription.",
        "sequence_of_events": "Auto-programming (RC-002) fetches the order; the physician "
        "changes the rate in the EHR before the nurse presses start.",
        "hazardous_situation": "Infusion runs at the old rate.",
        "harm": "Overdose or underdose requiring intervention.",
        "severity": 4, "p1": 3, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-013"],
        "software": [("SW-012", "specification", "Order versioning not in the interface spec.")],
    },
    # --- Security ----------------------------------------------------------------------------
    {
        "code": "HAZ-011", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Infusion rate changed over the network without authentication",
        "asset": "Pump network management interface",
        "threat": "elevation_of_privilege",
        "vulnerability": "A legacy Telnet service gave a root shell without authentication and "
        "the management protocol accepted rate changes from any host (the infusion pump "
        "advisories of 2015).",
        "hazard": "Dosage changed by an unauthorised user.",
        "sequence_of_events": "Attacker on the clinical network connects to the pump and "
        "raises the rate of a running morphine infusion.",
        "hazardous_situation": "Patient receives an opioid overdose nobody ordered.",
        "harm": "Respiratory depression, death.",
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "severity": 5, "residual_severity": 5,
        "residual_cvss_vector": "CVSS:3.1/AV:A/AC:H/PR:H/UI:R/S:U/C:L/I:H/A:L",
        "benefit_risk_justification": "The network can no longer change a running infusion and "
        "all services require mutual TLS; only an insider with a device certificate and a "
        "clinician at the pump could stage an attack. Network connectivity is what delivers "
        "libraries and orders, whose benefit outweighs this controlled residual risk.",
        "controls": ["RC-015"],
        "leads_to": ["HAZ-001"],
        "software": [("SW-005", "specification", "Remote rate change allowed by the protocol.")],
    },
    {
        "code": "HAZ-012", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Tampered drug-library package",
        "asset": "Drug library (limits per drug and care area)",
        "threat": "tampering",
        "vulnerability": "Library packages authenticated by transport only; whoever controls "
        "the server can publish any limits.",
        "hazard": "Hard limits widened so that overdoses pass.",
        "sequence_of_events": "Attacker with Safety Server admin rights publishes a library "
        "with the heparin hard limit raised 100-fold.",
        "hazardous_situation": "Ten-fold programming errors no longer intercepted.",
        "harm": "Overdose of high-alert drugs, death.",
        "cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:C/C:N/I:H/A:N",
        "severity": 5, "residual_severity": 5,
        "residual_cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:N/I:H/A:N",
        "benefit_risk_justification": "Signed libraries need the pharmacy approver's key, held "
        "on a smart card; exploitability very low. A drug library is the main protection "
        "against programming errors, so its distribution is kept.",
        "controls": ["RC-016"],
        "leads_to": ["HAZ-001"],
        "software": [("SW-011", "specification", "No signature on library packages.")],
    },
    {
        "code": "HAZ-013", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Hospital network entered through an internet-facing test server",
        "asset": "Safety Server test instance",
        "threat": "elevation_of_privilege",
        "vulnerability": "A test instance installed by a field engineer faced the internet "
        "with default credentials and a route into the clinical VLAN.",
        "hazard": "Attacker foothold next to the pumps.",
        "sequence_of_events": "Internet scan finds the test server; attacker pivots to the "
        "clinical VLAN and disrupts library distribution and auto-programming.",
        "hazardous_situation": "Pumps fall back to manual programming across the hospital.",
        "harm": "Programming errors without limits (see HAZ-007).",
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "severity": 4, "residual_severity": 4,
        "residual_cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:H",
        "controls": ["RC-017"],
        "leads_to": ["HAZ-007"],
        "software": [("SW-010", "misuse", "Test instance deployed outside the clinical VLAN.")],
    },
    {
        "code": "HAZ-014", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Wi-Fi credentials extracted from a decommissioned pump",
        "asset": "WPA2-Enterprise and TLS credentials",
        "threat": "information_disclosure",
        "vulnerability": "Credentials stored in plain flash.",
        "hazard": "Hospital network credentials in the hands of a buyer of used pumps.",
        "sequence_of_events": "Pump sold on an auction site; the buyer dumps the flash.",
        "hazardous_situation": "Outsider can join the clinical network.",
        "harm": "Foothold for further attacks; data exposure.",
        "cvss_vector": "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N",
        "severity": 3, "residual_severity": 3,
        "residual_cvss_vector": "CVSS:3.1/AV:P/AC:H/PR:H/UI:N/S:U/C:L/I:N/A:N",
        "controls": ["RC-018"],
    },
    {
        "code": "HAZ-015", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Wi-Fi denial of service",
        "asset": "Pump–server Wi-Fi link",
        "threat": "denial_of_service",
        "vulnerability": "Deauthentication frames are unauthenticated without 802.11w.",
        "hazard": "Pumps lose the network.",
        "sequence_of_events": "Deauthentication flood from a cheap device in the car park.",
        "hazardous_situation": "No auto-programming or library updates; manual keying "
        "hospital-wide.",
        "harm": "More keying errors (see HAZ-001).",
        "cvss_vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        "severity": 3, "residual_severity": 2,
        "residual_cvss_vector": "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L",
        "controls": ["RC-019"],
        "software": [("SW-007", "soup_failure", "Network stack stalls on reassociation storms.")],
    },
    # --- Privacy -----------------------------------------------------------------------------
    {
        "code": "HAZ-016", "category": D, "status": APPROVED, "hazard_type": "performance",
        "title": "Patient identifiers left on pumps sent for repair",
        "data_elements": ["names", "mrn", "dates"],
        "linddun_category": "data_disclosure",
        "asset": "Patient names and medical record numbers in the pump event log.",
        "hazard": "Event log readable by anyone with the pump in hand.",
        "sequence_of_events": "Pump shipped to the repair centre with months of wristband "
        "scans in its log.",
        "hazardous_situation": "Service staff and later owners can read patient identities "
        "and infusions.",
        "harm": "Disclosure of health information, breach notification.",
        "severity": 3, "probability": 3, "residual_severity": 3, "residual_probability": 1,
        "controls": ["RC-020", "RC-018"],
        "software": [("SW-013", "specification", "Log retention not specified.")],
    },
    {
        "code": "HAZ-017", "category": D, "status": APPROVED, "hazard_type": "performance",
        "title": "Infusion events readable on the hospital network",
        "data_elements": ["names", "mrn", "ip_addresses", "device_ids"],
        "linddun_category": "detecting",
        "asset": "HL7 messages with patient identifiers and drugs.",
        "hazard": "Messages sent unencrypted over the hospital network.",
        "sequence_of_events": "HL7 feed to the integration engine runs in clear text; a "
        "compromised workstation sniffs it.",
        "hazardous_situation": "Who receives which drug is visible to an attacker.",
        "harm": "Disclosure of health information (e.g. HIV medication).",
        "severity": 3, "probability": 2, "residual_severity": 3, "residual_probability": 1,
        "controls": ["RC-021"],
    },
    {
        "code": "HAZ-018", "category": D, "status": DRAFT, "hazard_type": "performance",
        "title": "Infusion history kept identifiable beyond its purpose",
        "data_elements": ["mrn", "dates", "device_ids"],
        "linddun_category": "non_compliance",
        "asset": "Identifiable infusion history kept for CQI reports.",
        "hazard": "Retention for 10 years beyond what the purpose needs.",
        "sequence_of_events": "Safety Server keeps every event with MRN forever because "
        "reports were designed on identifiable data.",
        "hazardous_situation": "Data kept longer than needed (GDPR Art. 5(1)(e)).",
        "harm": "Non-compliance, larger impact of any breach.",
        "severity": 2, "probability": 3, "residual_severity": 2, "residual_probability": 1,
        "controls": ["RC-022"],
    },
]  # fmt: skip

INTRODUCED = [("RC-002", "HAZ-010")]

SOFTWARE_ITEMS = [
    {"code": "SW-001", "name": "LVP-8 pump firmware", "safety_class": "C",
     "description": "Firmware of the control processor (Eclipse ThreadX).",
     "safety_class_rationale": "Controls IV delivery of high-alert drugs."},
    {"code": "SW-002", "name": "Infusion controller", "parent": "SW-001", "safety_class": "C",
     "description": "Rate and dose modes, limits, alarms, battery management.",
     "safety_class_rationale": "Commands the pumping mechanism."},
    {"code": "SW-003", "name": "Safety processor monitor", "parent": "SW-001",
     "safety_class": "C", "description": "Independent rate cross-check, air and occlusion "
     "supervision on a second MCU.",
     "safety_class_rationale": "Last line of protection against over-delivery."},
    {"code": "SW-004", "name": "Barcode decoder", "parent": "SW-001", "safety_class": "B",
     "description": "Decodes wristband and bag barcodes (GS1 DataMatrix, Code 128).",
     "safety_class_rationale": "Initially judged non-serious: a misread is caught by the "
     "order match.",
     "segregation_note": "Runs as a separate task with read-only access to the order cache."},
    {"code": "SW-005", "name": "Network and library client", "parent": "SW-001",
     "safety_class": "C", "description": "Library download and verification, order fetch, "
     "event upload.",
     "safety_class_rationale": "Installs the limits the controller enforces."},
    {"code": "SW-006", "name": "Eclipse ThreadX", "parent": "SW-001", "safety_class": "C",
     "is_soup": True, "manufacturer": "Eclipse Foundation", "soup_version": "6.4.1",
     "purl": "pkg:github/eclipse-threadx/threadx@v6.4.1_rel", "licence": "MIT",
     "soup_requirements": "Pre-emptive scheduling, event flags, memory pools; IEC 61508 SIL 4 "
     "pre-certified kernel.",
     "soup_hardware_software": "STM32H7 (Cortex-M7), 2 MB flash.",
     "anomalies_reviewed_at": "2026-07-02",
     "anomalies_notes": "Eclipse ThreadX issue tracker and advisories reviewed; none in the "
     "used services.",
     "support_status": "supported",
     "safety_class_rationale": "Schedules the class C controller."},
    {"code": "SW-007", "name": "lwIP TCP/IP stack", "parent": "SW-005", "safety_class": "C",
     "is_soup": True, "manufacturer": "lwIP project (Savannah)", "soup_version": "2.2.0",
     "purl": "pkg:generic/lwip@2.2.0", "licence": "BSD-3-Clause",
     "soup_requirements": "IPv4, TCP, DHCP, DNS for the Wi-Fi module; 8 concurrent sockets.",
     "anomalies_notes": "Update from 2.1.3 to 2.2.0 in firmware 2.8; review of the bug "
     "tracker pending.",
     "support_status": "limited",
     "safety_class_rationale": "Carries library downloads and orders."},
    {"code": "SW-008", "name": "wolfSSL", "parent": "SW-005", "safety_class": "C",
     "is_soup": True, "manufacturer": "wolfSSL Inc.", "soup_version": "5.7.0",
     "purl": "pkg:github/wolfSSL/wolfssl@v5.7.0-stable",
     "licence": "GPL-2.0-or-later (commercial licence held)",
     "soup_requirements": "TLS 1.3 client with mutual authentication; ECDSA verification of "
     "library signatures.",
     "anomalies_reviewed_at": "2026-07-02",
     "anomalies_notes": "wolfSSL vulnerability list up to 5.7.0 reviewed; no open issue in "
     "the compiled feature set.",
     "support_status": "supported",
     "safety_class_rationale": "Protects library integrity."},
    {"code": "SW-010", "name": "Vela Safety Server", "safety_class": "C",
     "description": "Drug library management, pump fleet, EHR integration, CQI reports.",
     "safety_class_rationale": "Publishes the limits and orders the pumps use."},
    {"code": "SW-011", "name": "Drug library editor and publisher", "parent": "SW-010",
     "safety_class": "C", "description": "Pharmacy editing, approval and signing.",
     "safety_class_rationale": "Wrong limits reach every pump."},
    {"code": "SW-012", "name": "EHR interoperability gateway", "parent": "SW-010",
     "safety_class": "C", "description": "IHE PCD-01/03 messages to and from the EHR.",
     "safety_class_rationale": "Carries orders used for auto-programming."},
    {"code": "SW-013", "name": "SQLite", "parent": "SW-001", "safety_class": "C",
     "is_soup": True, "manufacturer": "SQLite Consortium (Hwaci)", "soup_version": "3.45.3",
     "purl": "pkg:generic/sqlite@3.45.3", "licence": "blessing (public domain)",
     "soup_requirements": "Event log of 100 000 events with atomic commit on power loss.",
     "anomalies_reviewed_at": "2026-07-02",
     "anomalies_notes": "CVE list reviewed; all need attacker-controlled SQL.",
     "support_status": "supported",
     "safety_class_rationale": "Runs inside the class C firmware without segregation."},
    {"code": "SW-014", "name": "PostgreSQL", "parent": "SW-010", "safety_class": "C",
     "is_soup": True, "manufacturer": "PostgreSQL Global Development Group",
     "soup_version": "15.8", "purl": "pkg:generic/postgresql@15.8", "licence": "PostgreSQL",
     "soup_requirements": "ACID storage of libraries and events; streaming replication.",
     "anomalies_reviewed_at": "2026-07-02",
     "anomalies_notes": "15.x security advisories reviewed; 15.8 includes relevant fixes.",
     "support_status": "supported", "end_of_support": "2027-11-11",
     "safety_class_rationale": "Stores published libraries."},
]  # fmt: skip

REQUIREMENTS = [
    {"code": "SRS-001", "level": "system", "item": "SW-001",
     "title": "Volumetric accuracy",
     "text": "The pump shall deliver 0.1–1 200 mL/h within ±5 % (IEC 60601-2-24)."},
    {"code": "SRS-002", "level": "system", "item": "SW-010",
     "title": "Medication safety checks before start",
     "text": "Before an infusion starts, the system shall have checked patient, drug, "
     "concentration and dose against the order and the drug library."},
    {"code": "SRS-003", "level": "software", "parent": "SRS-002", "item": "SW-002",
     "controls": ["RC-001"], "title": "Hard limits block",
     "text": "The pump shall refuse to start an infusion beyond a hard limit of the active "
     "library entry."},
    {"code": "SRS-004", "level": "software", "parent": "SRS-002", "item": "SW-002",
     "controls": ["RC-001"], "title": "Soft-limit override",
     "text": "Exceeding a soft limit shall require an override with a reason from a fixed "
     "list, logged to the Safety Server."},
    {"code": "SRS-005", "level": "software", "parent": "SRS-002", "item": "SW-005",
     "controls": ["RC-002"], "title": "Auto-programming from the order",
     "text": "After patient and bag scans the pump shall fill rate and volume from the "
     "matching EHR order."},
    {"code": "SRS-006", "level": "software", "item": "SW-002", "controls": ["RC-003"],
     "title": "Rate confirmation",
     "text": "The confirmation screen shall show the rate with an emphasised decimal point and "
     "no trailing zeros; a rate ≥ 10× the typical rate shall need a second confirmation."},
    {"code": "SRS-007", "level": "software", "parent": "SRS-002", "item": "SW-004",
     "controls": ["RC-004"], "title": "Wristband match",
     "text": "A start shall require a complete wristband code equal to the order's patient "
     "identifier; overrides shall carry a reason and be logged."},
    {"code": "SRS-008", "level": "software", "parent": "SRS-002", "item": "SW-004",
     "controls": ["RC-005"], "title": "Bag concentration check",
     "text": "The decoded concentration and volume shall equal those of the library entry and "
     "the order, or the start is blocked."},
    {"code": "SRS-009", "level": "system", "controls": ["RC-006"],
     "title": "Anti-free-flow set",
     "text": "Administration sets shall close automatically when removed from the pump."},
    {"code": "SRS-010", "level": "software", "item": "SW-002", "controls": ["RC-007"],
     "title": "Door-open response",
     "text": "Opening the door shall stop pumping within 100 ms, close the clamp and alarm."},
    {"code": "SRS-011", "level": "software", "item": "SW-003", "controls": ["RC-008"],
     "title": "Air-in-line detection",
     "text": "A single bubble ≥ 50 µL or 1 mL accumulated in 15 min shall stop the pump."},
    {"code": "SRS-012", "level": "software", "item": "SW-002", "controls": ["RC-009"],
     "title": "Occlusion alarm time",
     "text": "At 1 mL/h and the low threshold, a downstream occlusion shall alarm within "
     "15 min."},
    {"code": "SRS-013", "level": "software", "item": "SW-005", "controls": ["RC-010"],
     "title": "Library version reporting",
     "text": "The pump shall show the library version at start and report download failures "
     "to the server."},
    {"code": "SRS-014", "level": "software", "item": "SW-002", "controls": ["RC-011"],
     "title": "Battery runtime and alarm",
     "text": "On battery the pump shall show remaining runtime at the current rate and alarm "
     "30 min before shutdown."},
    {"code": "SRS-015", "level": "software", "item": "SW-003", "controls": ["RC-012"],
     "title": "Independent rate cross-check",
     "text": "The safety processor shall recompute the motor rate and stop the motor when it "
     "differs by more than 1 %."},
    {"code": "SRS-016", "level": "software", "item": "SW-012", "controls": ["RC-013"],
     "title": "Order version check",
     "text": "Before start the pump shall re-query the order version and block the start if "
     "it changed or was discontinued."},
    {"code": "SRS-017", "level": "labeling", "controls": ["RC-014"],
     "title": "Workflow training",
     "text": "IFU and training shall cover scan-before-start, clamping before set removal and "
     "soft-limit warnings."},
    {"code": "SRS-018", "level": "security", "item": "SW-005", "controls": ["RC-015"],
     "title": "No unauthenticated service; no remote change",
     "text": "Production firmware shall expose no service without mutual TLS and shall "
     "ignore any network message that would start or modify a running infusion."},
    {"code": "SRS-019", "level": "security", "item": "SW-005", "controls": ["RC-016"],
     "title": "Library signature verification",
     "text": "The pump shall activate a library only if its signature verifies under a "
     "pharmacy approver certificate and its version is newer."},
    {"code": "SRS-020", "level": "labeling", "controls": ["RC-017"],
     "title": "Customer security guide",
     "text": "The security guide shall specify VLAN segmentation, no inbound internet and "
     "isolation of test systems."},
    {"code": "SRS-021", "level": "security", "item": "SW-005", "controls": ["RC-018"],
     "title": "Credentials in the secure element",
     "text": "Network credentials shall be stored only in the secure element and erased by "
     "decommissioning."},
    {"code": "SRS-022", "level": "system", "item": "SW-002", "controls": ["RC-019"],
     "title": "Offline operation",
     "text": "Every infusion function shall be available without network connection."},
    {"code": "SRS-023", "level": "privacy", "item": "SW-002", "controls": ["RC-020"],
     "title": "Purge identifiers",
     "text": "Patient names and MRNs shall be deleted from the pump at the end of each "
     "infusion."},
    {"code": "SRS-024", "level": "privacy", "item": "SW-012", "controls": ["RC-021"],
     "title": "TLS for HL7",
     "text": "HL7 connections shall use TLS 1.2 or later with certificate validation."},
    {"code": "SRS-025", "level": "privacy", "item": "SW-010", "controls": ["RC-022"],
     "title": "Pseudonymise history",
     "text": "Infusion history older than 30 days shall be pseudonymised."},
    {"code": "SRS-026", "level": "software", "item": "SW-011",
     "title": "Two-person library approval",
     "text": "Publishing a library shall require approval by a second pharmacist."},
]  # fmt: skip

LATER_REQUIREMENT_CHANGES = [
    (
        "SRS-004",
        {
            "text": "Exceeding a soft limit shall require an override with a reason from a "
            "fixed list, logged to the Safety Server; for high-alert drugs a second clinician "
            "shall confirm the override on the pump."
        },
        "CAPA-118: second-clinician confirmation for high-alert soft-limit overrides",
    ),
]

TEST_CASES = [
    {"code": "TC-001", "title": "Hard limits", "level": "unit",
     "requirements": ["SRS-003"], "implementation_of": ["RC-001"],
     "procedure": "Boundary tests for rate, dose and bolus hard limits per care area."},
    {"code": "TC-002", "title": "Auto-programming", "level": "integration",
     "requirements": ["SRS-005"], "implementation_of": ["RC-002"],
     "procedure": "EHR simulator sends 200 orders; compare programmed values."},
    {"code": "TC-003", "title": "Rate confirmation screen", "level": "integration",
     "requirements": ["SRS-006"], "implementation_of": ["RC-003"],
     "procedure": "Program 10.0, 100 and 0.5 mL/h; check display and second confirmation."},
    {"code": "TC-004", "title": "Soft-limit override", "level": "integration",
     "requirements": ["SRS-004"],
     "procedure": "Exceed soft limits; check reason list and log entry on the server."},
    {"code": "TC-005", "title": "Wristband match", "level": "integration",
     "requirements": ["SRS-007"], "implementation_of": ["RC-004"],
     "procedure": "Scan matching, foreign and truncated wristbands."},
    {"code": "TC-006", "title": "Bag concentration check", "level": "integration",
     "requirements": ["SRS-008"], "implementation_of": ["RC-005"],
     "procedure": "Scan bags with concentrations different from the selected entry."},
    {"code": "TC-007", "title": "Set clip inspection", "method": "inspection",
     "level": "system", "requirements": ["SRS-009"], "implementation_of": ["RC-006"],
     "procedure": "Remove 100 sets from the pump at 1 m head height; measure flow."},
    {"code": "TC-008", "title": "Door-open response", "level": "integration",
     "requirements": ["SRS-010"], "implementation_of": ["RC-007"],
     "procedure": "Open the door at 1 200 mL/h; measure stop time and clamp state."},
    {"code": "TC-009", "title": "Air-in-line detection", "level": "system",
     "requirements": ["SRS-011"], "implementation_of": ["RC-008"],
     "procedure": "Inject 50 µL bubbles and micro-bubble trains."},
    {"code": "TC-010", "title": "Occlusion alarm time", "level": "system",
     "requirements": ["SRS-012"], "implementation_of": ["RC-009"],
     "procedure": "Clamp downstream at 1 mL/h and each threshold; time the alarm."},
    {"code": "TC-011", "title": "Battery runtime at 40 °C", "level": "system",
     "requirements": ["SRS-014"], "implementation_of": ["RC-011"],
     "procedure": "Discharge aged batteries at 25 mL/h in the climate chamber.",
     "runs": [(130, "pass", "2.7.0", ""),
              (12, "blocked", "2.8.1", "Climate chamber out of calibration; rerun booked.")]},
    {"code": "TC-012", "title": "Library version reporting", "level": "integration",
     "requirements": ["SRS-013"], "implementation_of": ["RC-010"],
     "procedure": "Interrupt downloads; check pump display and server dashboard."},
    {"code": "TC-013", "title": "Rate cross-check and overflow", "level": "integration",
     "requirements": ["SRS-015"], "implementation_of": ["RC-012"],
     "procedure": "Weight-based doses for 0.5–250 kg; inject control-processor faults.",
     "runs": [(140, "fail", "2.7.0", "Wrapped rate at 180 kg (PR-88)."),
              (40, "pass", "2.8.1", "")]},
    {"code": "TC-014", "title": "Order version check", "level": "integration",
     "requirements": ["SRS-016"], "implementation_of": ["RC-013"],
     "procedure": "Change and discontinue orders between scan and start."},
    {"code": "TC-015", "title": "Training material inspection", "method": "inspection",
     "level": "system", "requirements": ["SRS-017"], "implementation_of": ["RC-014"],
     "procedure": "Check IFU chapter 4 and the e-learning against SRS-017."},
    {"code": "TC-016", "title": "Open ports and remote-change attempts", "level": "system",
     "requirements": ["SRS-018"], "implementation_of": ["RC-015"],
     "procedure": "Port scan; send rate-change messages from a rogue host with and without a "
     "certificate."},
    {"code": "TC-017", "title": "Library signature verification", "level": "integration",
     "requirements": ["SRS-019"], "implementation_of": ["RC-016"],
     "procedure": "Push unsigned, tampered and older signed libraries."},
    {"code": "TC-018", "title": "Security guide inspection", "method": "inspection",
     "level": "system", "requirements": ["SRS-020"], "implementation_of": ["RC-017"],
     "procedure": "Check the guide and the hardened image against SRS-020."},
    {"code": "TC-019", "title": "Decommissioning wipe", "level": "system",
     "requirements": ["SRS-021"], "implementation_of": ["RC-018"],
     "procedure": "Decommission a pump; dump flash and secure element."},
    {"code": "TC-020", "title": "Offline operation", "level": "system",
     "requirements": ["SRS-022"], "implementation_of": ["RC-019"],
     "procedure": "Run every infusion mode with the Wi-Fi module disabled and under "
     "deauthentication flood."},
    {"code": "TC-021", "title": "Identifier purge", "level": "integration",
     "requirements": ["SRS-023"], "implementation_of": ["RC-020"],
     "procedure": "End infusions; search the event log for names and MRNs."},
    {"code": "TC-022", "title": "HL7 over TLS", "level": "integration",
     "requirements": ["SRS-024"], "implementation_of": ["RC-021"],
     "procedure": "Connect with plain TCP, expired and valid certificates."},
    {"code": "TC-023", "title": "History pseudonymisation", "level": "integration",
     "requirements": ["SRS-025"], "implementation_of": ["RC-022"],
     "procedure": "Age records past 30 days; check reports and tables."},
    {"code": "TC-024", "title": "Two-person approval", "level": "integration",
     "requirements": ["SRS-026"],
     "procedure": "Attempt to publish with one and with two pharmacists."},
    # System and validation tests: effectiveness of the controls.
    {"code": "TC-030", "title": "Accuracy, occlusion and air bench tests", "level": "system",
     "requirements": ["SRS-001", "SRS-009"],
     "effectiveness_of": ["RC-006", "RC-007", "RC-008", "RC-009", "RC-011", "RC-012"],
     "procedure": "IEC 60601-2-24 accuracy and occlusion tests; air detection with 5 set lots."},
    {"code": "TC-031", "title": "Simulated-use study in a mock ICU", "level": "validation",
     "method": "demonstration", "requirements": ["SRS-002"],
     "effectiveness_of": ["RC-001", "RC-002", "RC-003", "RC-004", "RC-005", "RC-010",
                          "RC-013", "RC-014"],
     "procedure": "20 ICU nurses, 12 scenarios incl. look-alike patients, concentration "
     "changes, ten-fold keying and superseded orders."},
    {"code": "TC-032", "title": "Penetration test on a replica hospital network",
     "level": "system",
     "effectiveness_of": ["RC-015", "RC-016", "RC-017", "RC-018", "RC-019", "RC-020",
                          "RC-021"],
     "procedure": "External lab, grey box: pumps, Safety Server, HL7 gateway and Wi-Fi.",
     "runs": [(100, "fail", "2.7.0", "Debug service reachable on port 23 (finding F-01)."),
              (35, "pass", "2.8.1", "Retest: all findings closed.")]},
]  # fmt: skip
