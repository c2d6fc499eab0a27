"""Demo risk file: insulin pump with remote bolus from a phone app and cloud data upload.

A file *in progress*, with deliberate gaps that the coverage report and `riskcheck` find:

* HAZ-018 (analytics SDK sends identifiers) is a fresh draft with no risk control yet;
* HAZ-009 (MRI exposure) is a draft whose residual risk is still unacceptable and has no
  benefit-risk justification — the analysis is not finished, so it is not approved;
* RC-013 (magnetic-field detection) is planned only: no requirement, no verification;
* SRS-019 (MFA on cloud accounts) has no test yet, so RC-018's implementation is unverified;
* TC-001 (duplicate bolus rejection over a lossy link) failed its latest run on 3.2.0-rc2.
"""

S, P, D = "safety", "security", "privacy"
APPROVED, IN_REVIEW, DRAFT = "approved", "in_review", "draft"
INHERENT, PROTECTIVE, INFORMATION = (
    "inherent_safety",
    "protective_measure",
    "information_for_safety",
)

SOFTWARE_VERSION = "3.2.0-rc2"
CI_PREFIX = "https://ci.aurora.example/ip"

PRODUCT = {
    "slug": "aurora-insulin-pump",
    "name": "Aurora insulin pump with remote bolus",
    "model_number": "AP-200 fw 3.2.0-rc2 / app 5.4",
    "manufacturer": "Aurora Diabetes Care (demo)",
    "document_number": "RMF-IP-001",
    "software_safety_class": "C",
    "description": (
        "Patch-style insulin pump (U-100, 200 U reservoir) with a companion phone app that "
        "enters bolus doses remotely over Bluetooth Low Energy and uploads therapy data to the "
        "Aurora cloud, where caregivers and clinicians view them."
    ),
    "intended_use": (
        "Continuous subcutaneous delivery of U-100 rapid-acting insulin at set and variable "
        "rates for the management of diabetes mellitus in persons aged 7 and older requiring "
        "insulin. Bolus doses may be entered on the pump or remotely in the companion app, "
        "within limits set by the healthcare professional. The cloud service displays therapy "
        "data to the user, caregivers and clinicians; it does not command therapy."
    ),
    "reasonably_foreseeable_misuse": (
        "Child operating a parent's phone app; caregiver and child both bolusing for the same "
        "meal; bolus re-requested because the app seems unresponsive; decimal comma typed on "
        "a localised keyboard; infusion set worn beyond 3 days; alarms silenced at night; pump "
        "kept on during MRI or X-ray; use on a rooted or jail-broken phone; cloud account "
        "password shared with relatives."
    ),
    "intended_users": (
        "People with diabetes (lay users, from age 7 with a caregiver), parents and "
        "caregivers, diabetes educators and endocrinologists (therapy limits, data review), "
        "Aurora technical support."
    ),
    "use_environment": (
        "Worn on the body at home, school, work, outdoors and while travelling (aircraft "
        "cabins); 5–40 °C, IP28. Phone: consumer iOS 16+ or Android 12+. Cloud: hosted in the EU "
        "and the US. Not for use in MRI, CT or near diathermy."
    ),
    "connectivity": (
        "Pump ↔ app: BLE 5.0, LE Secure Connections with numeric comparison, bolus commands "
        "signed end to end with a per-pairing key. App ↔ Aurora cloud: HTTPS (TLS 1.3), OAuth "
        "2.0 with PKCE. Cloud ↔ clinic portal and caregiver app: HTTPS, MFA. Firmware updates "
        "reach the pump through the app and are verified by the pump's bootloader. The pump has "
        "no direct internet connection."
    ),
    "safety_characteristics": (
        "Delivers a drug with a narrow therapeutic window (ISO 14971 5.3): maximum basal "
        "15 U/h, maximum bolus 25 U, delivery accuracy ±5 %; body-worn, skin contact through "
        "the infusion set; battery powered; alarms for occlusion, low reservoir and battery; "
        "dosing controlled by software in the pump and entered through a phone (IEC 62304 "
        "class C); therapy data are health data."
    ),
    "verification_plan": (
        "Implementation: unit and integration tests in CI for every software control, code "
        "and labeling inspection. Effectiveness: gravimetric delivery-accuracy and occlusion "
        "bench tests (IEC 60601-2-24 method), long-duration soak tests, alarm recognition "
        "tests (IEC 60601-1-8), an independent penetration test of pump, app and cloud, and a "
        "summative usability study (IEC 62366-1) with 15 users per user group."
    ),
    "overall_residual_risk_method": (
        "Per RMP-IP-001 §8: cross-functional review (clinical, engineering, security, quality) "
        "of all residual risks together against the benefits of pump therapy with remote bolus "
        "(lower HbA1c, fewer severe hypoglycaemia events than multiple daily injections, "
        "discreet dosing), benchmarked against MAUDE reports for comparable pumps; risks in the "
        "investigate region are disclosed in the IFU."
    ),
    "post_production_plan": (
        "Complaint trending monthly; MAUDE and EUDAMED search quarterly; SBOM watched against "
        "NVD and CISA KEV weekly; coordinated vulnerability disclosure (90 days); cloud "
        "telemetry of alarm and occlusion rates reviewed monthly; field safety corrective "
        "action procedure SOP-212; new hazards into this file within 30 days."
    ),
}

CONTROLS = [
    {"code": "RC-001", "title": "Idempotent bolus commands",
     "description": "Every bolus request carries a unique 64-bit command ID; the pump executes "
     "an ID at most once and answers a repeated ID with the stored result.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-002", "title": "Pump-confirmed bolus history before retry",
     "description": "After a link loss the app reads the pump's bolus history and shows the "
     "last delivered bolus before offering a retry.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-003", "title": "Occlusion detection by motor force",
     "description": "Drive-motor current and force sensor detect an occlusion; alarm at the "
     "latest after 2 U of missed delivery at any basal rate.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-004", "title": "Fixed-step numeric dose entry",
     "description": "Doses are entered with +/− steps of 0.05 U; no free-text numbers, so no "
     "locale-dependent parsing of decimal separators.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-005", "title": "Hard dose limits in pump firmware",
     "description": "Max bolus (≤ 25 U), max basal (≤ 15 U/h) and max daily total set by the "
     "HCP are enforced by the pump, whatever the source of the command.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-006", "title": "Dose confirmation showing units",
     "description": "Every bolus is confirmed on a screen showing the dose in large type with "
     "the unit 'U'; remote boluses also need a confirmation tap on the app.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-007", "title": "Wrap-safe time arithmetic",
     "description": "Scheduler compares tick differences (unsigned modular arithmetic), never "
     "absolute ticks; static analysis flags absolute tick comparisons.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-008", "title": "Three-stage low-battery alarms with reserve",
     "description": "Alarms at 20 %, 10 % and 5 %; a reserve keeps the final alarm sounding "
     "for 30 min after delivery stops.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-009", "title": "IFU and caregiver training module",
     "description": "IFU chapters on set change every 72 h, site rotation, signs of infection, "
     "checking the site after an occlusion alarm; caregiver e-learning on remote bolus.",
     "option": INFORMATION, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-010", "title": "72-hour set-change reminder",
     "description": "Pump and app remind the user to change the infusion set 72 h after the "
     "last fill, repeating every 2 h.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-011", "title": "Insulin on board computed in the pump only",
     "description": "Bolus calculator and insulin-on-board run in the pump; the app shows the "
     "pump's values with their age and greys out data older than 5 minutes.",
     "option": INHERENT, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-012", "title": "MR Unsafe labeling and wallet card",
     "description": "MR Unsafe symbol on pump and packaging; IFU and wallet card instruct to "
     "remove pump and infusion set before MRI, CT or diathermy.",
     "option": INFORMATION, "implementation_status": "implemented", "status": IN_REVIEW},
    {"code": "RC-013", "title": "Magnetic-field detection suspends delivery",
     "description": "Hall sensor detects fields > 50 mT and suspends delivery with an alarm.",
     "option": PROTECTIVE, "implementation_status": "planned", "status": DRAFT},
    {"code": "RC-014", "title": "Suspension alarm with resume prompt",
     "description": "Any suspension vibrates and sounds immediately, repeats every 5 min and "
     "prompts to resume when the cause has gone.",
     "option": PROTECTIVE, "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-015", "title": "LE Secure Connections pairing, single bond",
     "description": "Pairing only with numeric comparison on pump and phone; one bonded phone "
     "at a time; legacy 'Just Works' pairing removed.",
     "option": INHERENT, "security_category": "authentication",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-016", "title": "Signed bolus commands with counter and validity window",
     "description": "Commands signed (ECDSA P-256, per-pairing key) with a monotonic counter; "
     "the pump rejects bad signatures, old counters and commands older than 30 s.",
     "option": PROTECTIVE, "security_category": "integrity",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-017", "title": "Secure boot with anti-rollback",
     "description": "Immutable bootloader verifies the ECDSA signature of each image and an "
     "anti-rollback counter before running it.",
     "option": INHERENT, "security_category": "patchability",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-018", "title": "Cloud account protection",
     "description": "MFA for caregiver and clinician accounts, login rate limiting, screening "
     "against breached-password lists.",
     "option": PROTECTIVE, "security_category": "authentication",
     "implementation_status": "in_progress", "status": IN_REVIEW},
    {"code": "RC-019", "title": "Local alarms independent of connectivity",
     "description": "All alarms sound on the pump regardless of the link; the app notifies "
     "'connection lost' after 5 min without contact.",
     "option": INHERENT, "security_category": "resilience",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-020", "title": "Encryption at rest of cloud data and backups",
     "description": "AES-256 with KMS-managed keys per region, for the database and backups.",
     "option": PROTECTIVE, "security_category": "confidentiality",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-021", "title": "Private BLE address and generic name",
     "description": "Resolvable private address rotated every 15 min; advertising name "
     "'Aurora' without serial number.",
     "option": INHERENT, "security_category": "confidentiality",
     "implementation_status": "implemented", "status": APPROVED},
    {"code": "RC-022", "title": "Privacy notice at app onboarding",
     "description": "Onboarding explains which data go to the cloud, who sees them and how "
     "to withdraw consent.",
     "option": INFORMATION, "implementation_status": "implemented", "status": APPROVED},
]  # fmt: skip

HAZARDS = [
    # --- Safety ------------------------------------------------------------------------------
    {
        "code": "HAZ-001", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Unintended or duplicated bolus",
        "hazard": "Insulin delivered in excess of the dose the user intended.",
        "sequence_of_events": "User requests a 6 U bolus in the app; the BLE link drops before "
        "the acknowledgement arrives; the app retries and the pump, which had already "
        "delivered, delivers again.",
        "hazardous_situation": "Patient receives twice the intended bolus.",
        "harm": "Severe hypoglycaemia: seizure, loss of consciousness.",
        "severity": 4, "p1": 4, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-001", "RC-002", "RC-005"],
        "software": [
            ("SW-004", "specification", "Retry semantics of remote commands not specified."),
            ("SW-011", "defect", "App resends without reading the pump's history."),
        ],
    },
    {
        "code": "HAZ-002", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Undetected occlusion stops insulin delivery",
        "hazard": "Interruption of insulin delivery.",
        "sequence_of_events": "Cannula kinks under the skin at night at a low basal rate; "
        "pressure builds slowly and stays under a fixed alarm threshold.",
        "hazardous_situation": "No insulin delivered for hours without an alarm.",
        "harm": "Hyperglycaemia progressing to diabetic ketoacidosis.",
        "severity": 4, "p1": 4, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-003", "RC-009"],
        "software": [("SW-003", "specification", "Fixed threshold ignores the basal rate.")],
    },
    {
        "code": "HAZ-003", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Ten-fold bolus from a decimal-separator error",
        "hazard": "Bolus dose ten times larger than intended.",
        "sequence_of_events": "Use error (IEC 62366-1): "
        "On a phone set to German the user types '1,5'; the app strips "
        "the separator it does not expect and sends 15 U.",
        "hazardous_situation": "Patient receives 15 U instead of 1.5 U.",
        "harm": "Severe hypoglycaemia, brain injury or death.",
        "severity": 5, "p1": 3, "p2": 3, "residual_severity": 5, "residual_p1": 1,
        "residual_p2": 3,
        "benefit_risk_justification": "Residual risk remains in the investigate region because "
        "a ten-fold overdose is potentially fatal. Free-text entry is removed and the pump caps "
        "every bolus at the HCP limit, leaving only a deliberate 30-step entry that is then "
        "confirmed on screen; no such event in the summative study (n = 45). Remote bolus "
        "spares children injections at school; benefit outweighs.",
        "controls": ["RC-004", "RC-005", "RC-006"],
        "software": [("SW-011", "defect", "Locale-dependent number parsing.")],
    },
    {
        "code": "HAZ-004", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Basal schedule frozen after 49.7 days of uptime",
        "hazard": "Basal rate no longer follows the programmed profile.",
        "sequence_of_events": "The 32-bit millisecond tick counter wraps after 49.7 days "
        "without a battery change; the scheduler compares absolute ticks and stops switching "
        "basal segments.",
        "hazardous_situation": "Overnight basal rate delivered all day, or daytime rate at night.",
        "harm": "Hypo- or hyperglycaemia requiring third-party assistance.",
        "severity": 4, "p1": 3, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-007"],
        "software": [("SW-002", "defect", "Absolute tick comparison in the scheduler.")],
    },
    {
        "code": "HAZ-005", "category": S, "status": APPROVED, "hazard_type": "energy",
        "title": "Battery exhausted without a final alarm",
        "hazard": "Loss of power stops delivery.",
        "sequence_of_events": "Battery discharges at night; the pump shuts down before the user "
        "has heard any warning.",
        "hazardous_situation": "No insulin for hours, patient unaware.",
        "harm": "Hyperglycaemia and ketosis requiring medical treatment.",
        "severity": 3, "p1": 3, "p2": 4, "residual_severity": 3, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-008"],
        "software": [("SW-003", "defect", "Battery model underestimates drain at cold.")],
    },
    {
        "code": "HAZ-006", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Caregiver and child both bolus for the same meal",
        "hazard": "Two operators dose independently.",
        "sequence_of_events": "Use error (IEC 62366-1): "
        "Child boluses on the pump at lunch; parent, seeing a high "
        "glucose in the app a few minutes later, sends a remote bolus.",
        "hazardous_situation": "Child receives two meal boluses.",
        "harm": "Severe hypoglycaemia in the afternoon at school.",
        "severity": 4, "p1": 3, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-002", "RC-011", "RC-009"],
        "software": [("SW-011", "misuse", "Remote bolus without looking at recent doses.")],
    },
    {
        "code": "HAZ-007", "category": S, "status": IN_REVIEW, "hazard_type": "biological",
        "title": "Infusion-site infection from prolonged set use",
        "hazard": "Bacterial contamination of the infusion site.",
        "sequence_of_events": "User keeps the infusion set for 5–6 days to save supplies.",
        "hazardous_situation": "Cannula in skin beyond its rated 72 h.",
        "harm": "Abscess requiring antibiotics or incision.",
        "severity": 3, "p1": 4, "p2": 3, "residual_severity": 3, "residual_p1": 3,
        "residual_p2": 3,
        "benefit_risk_justification": "Prolonged wear is a user decision the pump can remind "
        "about but not prevent without stopping therapy, which would be worse. Reminders and "
        "training halve the rate in the study; remaining infections are treatable and listed "
        "as a residual risk in the IFU.",
        "controls": ["RC-009", "RC-010"],
    },
    {
        "code": "HAZ-008", "category": S, "status": APPROVED, "hazard_type": "performance",
        "title": "Stale insulin-on-board shown in the app",
        "hazard": "Displayed therapy data no longer true.",
        "sequence_of_events": "App shows insulin on board from a sync 40 minutes ago; the user "
        "believes little insulin is active and boluses again.",
        "hazardous_situation": "Bolus stacked on active insulin.",
        "harm": "Severe hypoglycaemia.",
        "severity": 4, "p1": 3, "p2": 3, "residual_severity": 4, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-011"],
        "software": [("SW-011", "specification", "Data age not part of the display spec.")],
    },
    {
        "code": "HAZ-009", "category": S, "status": DRAFT, "hazard_type": "energy",
        "title": "Uncontrolled delivery in an MRI scanner",
        "hazard": "Strong static magnetic field acting on the drive motor.",
        "sequence_of_events": "Patient forgets to remove the pump before an MRI scan; the field "
        "turns the motor.",
        "hazardous_situation": "Uncontrolled delivery of reservoir insulin.",
        "harm": "Severe hypoglycaemia, death.",
        "severity": 5, "p1": 2, "p2": 4, "residual_severity": 5, "residual_p1": 2,
        "residual_p2": 4,
        "controls": ["RC-012", "RC-013"],
    },
    {
        "code": "HAZ-010", "category": S, "status": IN_REVIEW, "hazard_type": "performance",
        "title": "Delivery suspended by everyday magnets",
        "hazard": "Unintended suspension of insulin delivery.",
        "sequence_of_events": "Magnetic-field detection (RC-013) trips near a magnetic phone "
        "mount or handbag clasp and suspends delivery.",
        "hazardous_situation": "No basal insulin while the user is unaware.",
        "harm": "Hyperglycaemia requiring correction and medical advice.",
        "severity": 3, "p1": 4, "p2": 3, "residual_severity": 3, "residual_p1": 1,
        "residual_p2": 3,
        "controls": ["RC-014"],
        "software": [("SW-003", "specification", "Detection threshold not yet specified.")],
    },
    # --- Security ----------------------------------------------------------------------------
    {
        "code": "HAZ-011", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Unauthenticated BLE bolus command",
        "asset": "Bolus command GATT characteristic",
        "threat": "spoofing",
        "vulnerability": "Firmware 2.x accepted 'Just Works' pairing, so any central in radio "
        "range could bond and write the bolus characteristic.",
        "hazard": "Insulin dosed by an unauthorised party.",
        "sequence_of_events": "Attacker within 10 m (100 m with a directional antenna) pairs "
        "while the user opens pairing mode and writes a bolus command.",
        "hazardous_situation": "Patient receives a bolus nobody intended.",
        "harm": "Severe hypoglycaemia, death.",
        "cvss_vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H",
        "severity": 5, "residual_severity": 4,
        "residual_cvss_vector": "CVSS:3.1/AV:A/AC:H/PR:H/UI:R/S:U/C:N/I:H/A:H",
        "controls": ["RC-015", "RC-016", "RC-005"],
        "leads_to": ["HAZ-001"],
        "software": [("SW-007", "soup_failure", "Legacy pairing enabled in the BLE stack.")],
    },
    {
        "code": "HAZ-012", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Replay of a captured bolus command",
        "asset": "Encrypted bolus command frames",
        "threat": "tampering",
        "vulnerability": "Command frames carry no counter or timestamp.",
        "hazard": "An earlier, legitimate bolus delivered again.",
        "sequence_of_events": "Attacker records a bolus write over the air and replays it an "
        "hour later.",
        "hazardous_situation": "Patient receives an extra full meal bolus.",
        "harm": "Severe hypoglycaemia.",
        "cvss_vector": "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N",
        "severity": 4, "residual_severity": 4,
        "residual_cvss_vector": "CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:N/I:H/A:N",
        "controls": ["RC-016", "RC-001"],
        "leads_to": ["HAZ-001"],
        "software": [("SW-004", "specification", "No freshness in the command format.")],
    },
    {
        "code": "HAZ-013", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Tampered firmware update",
        "asset": "Pump firmware image",
        "threat": "tampering",
        "vulnerability": "Bootloader of firmware 2.x checked a CRC only.",
        "hazard": "Malicious firmware in control of insulin delivery.",
        "sequence_of_events": "Compromised app build or a man-in-the-middle on the update "
        "download delivers a modified image that removes dose limits.",
        "hazardous_situation": "Pump delivers insulin outside any limit.",
        "harm": "Severe hypoglycaemia, death.",
        "cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:H/A:H",
        "severity": 5, "residual_severity": 5,
        "residual_cvss_vector": "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:H",
        "benefit_risk_justification": "With signed images and anti-rollback the attack needs "
        "physical access to the debug port and the signing key, which is held in an HSM; "
        "exploitability is very low. Field updates are needed to fix vulnerabilities at all, "
        "so removing the update path would raise overall risk.",
        "controls": ["RC-017"],
        "leads_to": ["HAZ-003"],
        "software": [
            ("SW-005", "defect", "CRC-only check of the image."),
            ("SW-008", "soup_failure", "Signature verification flaw in the TLS/crypto library."),
        ],
    },
    {
        "code": "HAZ-014", "category": P, "status": IN_REVIEW, "hazard_type": "performance",
        "title": "Credential stuffing against cloud accounts",
        "asset": "Caregiver and clinician cloud accounts",
        "threat": "spoofing",
        "vulnerability": "Password-only login without rate limiting.",
        "hazard": "Account taken over with a password leaked elsewhere.",
        "sequence_of_events": "Attacker replays leaked e-mail/password pairs against the login "
        "API, takes over a caregiver account and turns off low-glucose notifications.",
        "hazardous_situation": "Parent no longer alerted to the child's night-time lows.",
        "harm": "Untreated hypoglycaemia needing third-party help.",
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N",
        "severity": 3, "residual_severity": 3,
        "residual_cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:L/A:N",
        "controls": ["RC-018"],
        "software": [("SW-013", "specification", "No MFA or rate limit specified.")],
    },
    {
        "code": "HAZ-015", "category": P, "status": APPROVED, "hazard_type": "performance",
        "title": "Denial of service on the BLE telemetry link",
        "asset": "Pump–app BLE link",
        "threat": "denial_of_service",
        "vulnerability": "BLE can be jammed or flooded with connection requests by anyone "
        "nearby.",
        "hazard": "Loss of remote visibility and remote bolus.",
        "sequence_of_events": "Jammer or connection flood near the child's school bag; the "
        "caregiver's app shows no data and relays no alarms.",
        "hazardous_situation": "Caregiver misses a pump alarm at night.",
        "harm": "Delayed treatment of an occlusion or low battery.",
        "cvss_vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        "severity": 3, "residual_severity": 2,
        "residual_cvss_vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        "controls": ["RC-019"],
        "leads_to": ["HAZ-002"],
        "software": [("SW-007", "soup_failure", "Stack stalls under connection floods.")],
    },
    # --- Privacy -----------------------------------------------------------------------------
    {
        "code": "HAZ-016", "category": D, "status": APPROVED, "hazard_type": "performance",
        "title": "Therapy data disclosed from a cloud backup",
        "data_elements": ["names", "dates", "email", "device_ids", "ip_addresses"],
        "linddun_category": "data_disclosure",
        "asset": "Identifiable diabetes therapy data (glucose, boluses, identity).",
        "hazard": "Therapy data readable by parties the patient did not choose.",
        "sequence_of_events": "A database backup copied to a mis-configured storage bucket is "
        "indexed by a search engine.",
        "hazardous_situation": "Names, dates of birth, pump serials and glucose histories "
        "readable by anyone.",
        "harm": "Disclosure of health status, discrimination, phishing of patients.",
        "severity": 3, "probability": 3, "residual_severity": 3, "residual_probability": 1,
        "controls": ["RC-020", "RC-022"],
    },
    {
        "code": "HAZ-017", "category": D, "status": APPROVED, "hazard_type": "performance",
        "title": "Wearer tracked through BLE advertising",
        "data_elements": ["device_ids"],
        "linddun_category": "linking",
        "asset": "Pump serial number (a device identifier).",
        "hazard": "Serial number broadcast in advertising packets.",
        "sequence_of_events": "Passive scanners in shops log the advertised name 'AP-200 "
        "SN 4471…' and link sightings over days.",
        "hazardous_situation": "The wearer can be tracked and identified as insulin dependent.",
        "harm": "Loss of privacy, stigma.",
        "severity": 2, "probability": 4, "residual_severity": 2, "residual_probability": 2,
        "controls": ["RC-021"],
    },
    {
        "code": "HAZ-018", "category": D, "status": DRAFT, "hazard_type": "performance",
        "title": "Analytics SDK sends identifiers to a third party",
        "data_elements": ["ip_addresses", "device_ids", "dates"],
        "linddun_category": "unawareness",
        "asset": "App usage events with user and device identifiers.",
        "hazard": "Identifiers passed on to an analytics vendor.",
        "sequence_of_events": "The crash and analytics SDK added in app 5.4 sends IP address, "
        "advertising ID and event times with every screen view.",
        "hazardous_situation": "A third party can infer that the user has diabetes and when "
        "they dose.",
        "harm": "Loss of control over health data; non-compliance with GDPR Art. 9.",
        "severity": 2, "probability": 3,
    },
]  # fmt: skip

INTRODUCED = [("RC-013", "HAZ-010")]

SOFTWARE_ITEMS = [
    {"code": "SW-001", "name": "AP-200 pump firmware", "safety_class": "C",
     "description": "Firmware of the pump (FreeRTOS).",
     "safety_class_rationale": "Controls insulin delivery: a failure can cause death."},
    {"code": "SW-002", "name": "Delivery controller", "parent": "SW-001", "safety_class": "C",
     "description": "Basal schedule, bolus execution, dose limits, insulin on board.",
     "safety_class_rationale": "Commands the drive motor."},
    {"code": "SW-003", "name": "Alarm manager", "parent": "SW-001", "safety_class": "C",
     "description": "Occlusion, battery, reservoir and suspension alarms.",
     "safety_class_rationale": "A missed alarm can lead to DKA."},
    {"code": "SW-004", "name": "BLE command handler", "parent": "SW-001", "safety_class": "C",
     "description": "Pairing, command verification and dispatch.",
     "safety_class_rationale": "Accepts remote bolus commands."},
    {"code": "SW-005", "name": "Bootloader and secure boot", "parent": "SW-001",
     "safety_class": "C", "description": "Verifies and starts firmware images.",
     "safety_class_rationale": "Guards the integrity of the class C firmware."},
    {"code": "SW-006", "name": "FreeRTOS kernel", "parent": "SW-001", "safety_class": "C",
     "is_soup": True, "manufacturer": "Amazon Web Services (FreeRTOS)",
     "soup_version": "V11.1.0 (FreeRTOS 202406.01 LTS)",
     "purl": "pkg:github/FreeRTOS/FreeRTOS-Kernel@V11.1.0", "licence": "MIT",
     "soup_requirements": "Pre-emptive priority scheduling, tick-less idle, stack overflow "
     "detection, mutexes with priority inheritance.",
     "soup_hardware_software": "STM32U5 (Cortex-M33), 512 KB flash.",
     "anomalies_reviewed_at": "2026-08-20",
     "anomalies_notes": "LTS patch notes reviewed; no open issue in the used kernel features. "
     "LTS support ended 2026-06; migration to the next LTS planned for 3.3.",
     "support_status": "end_of_support", "end_of_support": "2026-06-30",
     "safety_class_rationale": "Schedules the class C delivery controller."},
    {"code": "SW-007", "name": "Apache NimBLE host and controller", "parent": "SW-004",
     "safety_class": "C", "is_soup": True, "manufacturer": "Apache Software Foundation",
     "soup_version": "1.7.0", "purl": "pkg:github/apache/mynewt-nimble@nimble_1_7_0_tag",
     "licence": "Apache-2.0",
     "soup_requirements": "BLE 5.0 peripheral, LE Secure Connections with numeric comparison, "
     "bonding of one central, 2M PHY.",
     "anomalies_reviewed_at": "2026-08-20",
     "anomalies_notes": "Apache JIRA and GitHub issues for 1.7.0 reviewed: connection-flood "
     "stall (fixed upstream, backported) and legacy pairing disabled by configuration.",
     "support_status": "limited",
     "safety_class_rationale": "Carries remote bolus commands."},
    {"code": "SW-008", "name": "Mbed TLS", "parent": "SW-005", "safety_class": "C",
     "is_soup": True, "manufacturer": "Trusted Firmware (Linaro)", "soup_version": "3.6.2 LTS",
     "purl": "pkg:github/Mbed-TLS/mbedtls@v3.6.2", "licence": "Apache-2.0 OR GPL-2.0-or-later",
     "soup_requirements": "ECDSA P-256 signature verification and SHA-256 for images and "
     "commands, constant-time.",
     "anomalies_reviewed_at": "2026-08-20",
     "anomalies_notes": "Mbed TLS security advisories up to 2026-08 reviewed; none affects "
     "ECDSA verification as configured (no TLS, no X.509 parsing in the pump).",
     "support_status": "supported", "end_of_support": "2027-03-31",
     "safety_class_rationale": "Verifies firmware and command signatures."},
    {"code": "SW-010", "name": "Aurora companion app", "safety_class": "C",
     "description": "iOS and Android app: remote bolus, data display, cloud sync.",
     "safety_class_rationale": "Enters bolus doses sent to the pump."},
    {"code": "SW-011", "name": "Bolus entry and confirmation UI", "parent": "SW-010",
     "safety_class": "C", "description": "Dose entry, confirmation, history display.",
     "safety_class_rationale": "A wrong dose entered here is delivered."},
    {"code": "SW-012", "name": "SQLite", "parent": "SW-010", "safety_class": "B",
     "is_soup": True, "manufacturer": "SQLite Consortium (Hwaci)", "soup_version": "3.45.1",
     "purl": "pkg:generic/sqlite@3.45.1", "licence": "blessing (public domain)",
     "soup_requirements": "Local cache of the last 90 days of therapy history; atomic "
     "commits.",
     "anomalies_reviewed_at": "2026-08-20",
     "anomalies_notes": "CVE list reviewed; all need attacker-supplied SQL; the app uses "
     "fixed, parameterised statements.",
     "support_status": "supported",
     "segregation_note": "History cache is display-only: dosing decisions use the pump's "
     "insulin on board (RC-011), so a cache failure cannot change a dose.",
     "safety_class_rationale": "Stale display data can at most mislead (non-serious)."},
    {"code": "SW-013", "name": "Aurora cloud service", "safety_class": "C",
     "description": "Accounts, data storage, caregiver notifications, clinic portal.",
     "safety_class_rationale": "Caregiver low-glucose notifications (HAZ-014)."},
    {"code": "SW-014", "name": "PostgreSQL", "parent": "SW-013", "safety_class": "C",
     "is_soup": True, "manufacturer": "PostgreSQL Global Development Group",
     "soup_version": "16.4", "purl": "pkg:generic/postgresql@16.4", "licence": "PostgreSQL",
     "soup_requirements": "ACID storage of therapy data; encrypted replication.",
     "anomalies_reviewed_at": "2026-08-20",
     "anomalies_notes": "Security advisories for 16.x reviewed; 16.4 contains the fixes.",
     "support_status": "supported", "end_of_support": "2028-11-09",
     "safety_class_rationale": "Stores notification settings."},
]  # fmt: skip

REQUIREMENTS = [
    {"code": "SRS-001", "level": "system", "item": "SW-001",
     "title": "Delivery accuracy",
     "text": "The pump shall deliver basal and bolus insulin within ±5 % of the programmed "
     "volume (IEC 60601-2-24 method)."},
    {"code": "SRS-002", "level": "system", "item": "SW-010",
     "title": "A remote bolus is delivered at most once",
     "text": "Each remote bolus request shall result in at most one delivery, whatever the "
     "state of the link."},
    {"code": "SRS-003", "level": "software", "parent": "SRS-002", "item": "SW-004",
     "controls": ["RC-001"], "title": "Duplicate command IDs rejected",
     "text": "The pump shall execute a command ID at most once and answer repeats with the "
     "stored result, for the last 64 IDs."},
    {"code": "SRS-004", "level": "software", "parent": "SRS-002", "item": "SW-011",
     "controls": ["RC-002"], "title": "History read before retry",
     "text": "After a link loss during a bolus the app shall read the pump's bolus history and "
     "show the last bolus before offering a retry."},
    {"code": "SRS-005", "level": "software", "item": "SW-003", "controls": ["RC-003"],
     "title": "Occlusion alarm",
     "text": "An occlusion shall raise an alarm before 2 U of insulin are missed, at basal "
     "rates from 0.05 to 15 U/h."},
    {"code": "SRS-006", "level": "software", "item": "SW-011", "controls": ["RC-004"],
     "title": "Fixed-step dose entry",
     "text": "Doses shall be entered only with increment and decrement buttons in 0.05 U steps."},
    {"code": "SRS-007", "level": "software", "parent": "SRS-001", "item": "SW-002",
     "controls": ["RC-005"], "title": "Dose limits enforced in the pump",
     "text": "The pump shall refuse any bolus above the max bolus, any basal above the max "
     "basal, and any dose that would exceed the max daily total."},
    {"code": "SRS-008", "level": "software", "item": "SW-011", "controls": ["RC-006"],
     "title": "Dose confirmation",
     "text": "Every bolus shall be confirmed on a screen that shows the dose in at least 24 pt "
     "with the unit 'U'."},
    {"code": "SRS-009", "level": "software", "parent": "SRS-001", "item": "SW-002",
     "controls": ["RC-007"], "title": "Wrap-safe scheduling",
     "text": "The scheduler shall compare tick differences only and behave identically across "
     "a tick-counter wrap."},
    {"code": "SRS-010", "level": "software", "item": "SW-003", "controls": ["RC-008"],
     "title": "Battery alarms with reserve",
     "text": "Battery alarms shall sound at 20 %, 10 % and 5 %; the final alarm shall sound "
     "for 30 min after delivery stops."},
    {"code": "SRS-011", "level": "labeling", "controls": ["RC-009"],
     "title": "IFU and caregiver training",
     "text": "The IFU shall cover set change, site rotation, infection signs and occlusion "
     "response; a caregiver module shall cover remote bolus."},
    {"code": "SRS-012", "level": "software", "item": "SW-003", "controls": ["RC-010"],
     "title": "Set-change reminder",
     "text": "The pump and app shall remind the user 72 h after the last fill and every 2 h "
     "thereafter."},
    {"code": "SRS-013", "level": "software", "item": "SW-002", "controls": ["RC-011"],
     "title": "Insulin on board from the pump",
     "text": "Insulin on board shall be computed only in the pump; the app shall show its age "
     "and grey out values older than 5 min."},
    {"code": "SRS-014", "level": "labeling", "controls": ["RC-012"],
     "title": "MR Unsafe labeling",
     "text": "Pump, packaging, IFU and wallet card shall carry the MR Unsafe marking and the "
     "instruction to remove the pump before imaging."},
    {"code": "SRS-015", "level": "software", "item": "SW-003", "controls": ["RC-014"],
     "title": "Suspension alarm",
     "text": "Any suspension shall alarm immediately, repeat every 5 min and prompt to resume."},
    {"code": "SRS-016", "level": "security", "item": "SW-004", "controls": ["RC-015"],
     "title": "Secure pairing only",
     "text": "The pump shall pair only with LE Secure Connections numeric comparison and keep "
     "at most one bond."},
    {"code": "SRS-017", "level": "security", "item": "SW-004", "controls": ["RC-016"],
     "title": "Command signature, counter and freshness",
     "text": "The pump shall reject commands with an invalid signature, a counter not above "
     "the last accepted one, or a timestamp older than 30 s."},
    {"code": "SRS-018", "level": "security", "item": "SW-005", "controls": ["RC-017"],
     "title": "Secure boot",
     "text": "The bootloader shall start only images with a valid signature and a version not "
     "below the anti-rollback counter."},
    {"code": "SRS-019", "level": "security", "item": "SW-013", "controls": ["RC-018"],
     "title": "MFA and login rate limiting",
     "text": "Caregiver and clinician logins shall require a second factor; more than 10 "
     "failed logins per account per hour shall be blocked."},
    {"code": "SRS-020", "level": "system", "item": "SW-003", "controls": ["RC-019"],
     "title": "Alarms independent of connectivity",
     "text": "All pump alarms shall sound on the pump whatever the link state; the app shall "
     "notify a lost connection after 5 min."},
    {"code": "SRS-021", "level": "privacy", "item": "SW-013", "controls": ["RC-020"],
     "title": "Encryption at rest",
     "text": "Therapy data and backups shall be encrypted at rest with keys held in the KMS."},
    {"code": "SRS-022", "level": "privacy", "item": "SW-004", "controls": ["RC-021"],
     "title": "No identifier in advertising",
     "text": "Advertising shall use a resolvable private address rotated every 15 min and the "
     "name 'Aurora' only."},
    {"code": "SRS-023", "level": "labeling", "controls": ["RC-022"],
     "title": "Privacy notice",
     "text": "Onboarding shall present the privacy notice and record consent before any "
     "upload."},
]  # fmt: skip

TEST_CASES = [
    {"code": "TC-001", "title": "Duplicate bolus rejection over a lossy link",
     "level": "integration", "requirements": ["SRS-003"], "implementation_of": ["RC-001"],
     "procedure": "500 remote boluses with the link cut at random points by an RF shield "
     "box; count deliveries per request.",
     "runs": [(60, "pass", "3.1.4", ""),
              (9, "fail", "3.2.0-rc2", "1 of 500 requests delivered twice when the link dropped "
               "during the flash write of the ID table (PR-412).")]},
    {"code": "TC-002", "title": "History shown before retry", "level": "integration",
     "requirements": ["SRS-004"], "implementation_of": ["RC-002"],
     "procedure": "Drop the link during a bolus; check the app's retry screen."},
    {"code": "TC-003", "title": "Occlusion alarm at all basal rates", "level": "system",
     "requirements": ["SRS-005"], "implementation_of": ["RC-003"],
     "procedure": "Clamp the line at 0.05, 1 and 15 U/h; measure missed volume at alarm."},
    {"code": "TC-004", "title": "Dose entry widgets", "level": "unit",
     "requirements": ["SRS-006"], "implementation_of": ["RC-004"],
     "procedure": "UI unit tests in de-DE, fr-FR, en-US and ar-EG locales."},
    {"code": "TC-005", "title": "Dose limits", "level": "unit",
     "requirements": ["SRS-007"], "implementation_of": ["RC-005"],
     "procedure": "Boundary tests of bolus, basal and daily limits from every command source."},
    {"code": "TC-006", "title": "Confirmation screen", "level": "integration",
     "requirements": ["SRS-008"], "implementation_of": ["RC-006"],
     "procedure": "Screenshot comparison of confirmation screens on 6 phone models."},
    {"code": "TC-007", "title": "Tick-counter wrap", "level": "integration",
     "requirements": ["SRS-009"], "implementation_of": ["RC-007"],
     "procedure": "Preload the tick counter 10 min before wrap; check segment changes.",
     "runs": [(150, "fail", "3.1.0", "Segment change missed at wrap (PR-377)."),
              (70, "pass", "3.1.4", "")]},
    {"code": "TC-008", "title": "Battery alarm thresholds and reserve", "level": "system",
     "requirements": ["SRS-010"], "implementation_of": ["RC-008"],
     "procedure": "Battery emulator discharge at 5 °C and 40 °C."},
    {"code": "TC-009", "title": "IFU inspection", "method": "inspection", "level": "system",
     "requirements": ["SRS-011"], "implementation_of": ["RC-009"],
     "procedure": "Check IFU chapters 5–7 and the caregiver module against SRS-011."},
    {"code": "TC-010", "title": "Set-change reminder", "level": "integration",
     "requirements": ["SRS-012"], "implementation_of": ["RC-010"],
     "procedure": "Advance the clock 72 h after a fill; check pump and app reminders."},
    {"code": "TC-011", "title": "Insulin on board and data age", "level": "integration",
     "requirements": ["SRS-013"], "implementation_of": ["RC-011"],
     "procedure": "Compare pump and app values; stop sync for 6 min and check greying."},
    {"code": "TC-012", "title": "MR Unsafe labeling inspection", "method": "inspection",
     "level": "system", "requirements": ["SRS-014"], "implementation_of": ["RC-012"],
     "procedure": "Inspect pump label, carton, IFU §2 and wallet card."},
    {"code": "TC-013", "title": "Suspension alarm", "level": "integration",
     "requirements": ["SRS-015"], "implementation_of": ["RC-014"],
     "procedure": "Trigger suspension from each cause; measure alarm timing."},
    {"code": "TC-014", "title": "Pairing modes", "level": "integration",
     "requirements": ["SRS-016"], "implementation_of": ["RC-015"],
     "procedure": "Attempt Just Works, passkey and numeric comparison; pair a second phone."},
    {"code": "TC-015", "title": "Command signature, counter and freshness",
     "level": "integration", "requirements": ["SRS-017"], "implementation_of": ["RC-016"],
     "procedure": "Send forged, replayed and 31-s-old commands from a test central."},
    {"code": "TC-016", "title": "Secure boot", "level": "integration",
     "requirements": ["SRS-018"], "implementation_of": ["RC-017"],
     "procedure": "Flash unsigned, wrongly signed and older images."},
    {"code": "TC-017", "title": "Alarms with the link down", "level": "system",
     "requirements": ["SRS-020"], "implementation_of": ["RC-019"],
     "procedure": "Jam the link; raise each alarm; check the app notification at 5 min."},
    {"code": "TC-018", "title": "Encryption at rest review", "method": "inspection",
     "level": "system", "requirements": ["SRS-021"], "implementation_of": ["RC-020"],
     "procedure": "Inspect KMS policies; scan raw backups for plaintext identifiers."},
    {"code": "TC-019", "title": "Advertising content", "level": "integration",
     "requirements": ["SRS-022"], "implementation_of": ["RC-021"],
     "procedure": "Sniff advertising for 1 h; check address rotation and name."},
    {"code": "TC-020", "title": "Privacy notice inspection", "method": "inspection",
     "level": "system", "requirements": ["SRS-023"], "implementation_of": ["RC-022"],
     "procedure": "Walk through onboarding; verify no upload before consent."},
    # System and validation tests: effectiveness of the controls.
    {"code": "TC-030", "title": "Gravimetric accuracy and occlusion bench test",
     "level": "system", "requirements": ["SRS-001"],
     "effectiveness_of": ["RC-003", "RC-005", "RC-007"],
     "procedure": "IEC 60601-2-24 gravimetric method, 72 h, with occlusions and a tick wrap."},
    {"code": "TC-031", "title": "Summative usability study", "level": "validation",
     "method": "demonstration",
     "effectiveness_of": ["RC-002", "RC-004", "RC-006", "RC-009", "RC-010", "RC-011",
                          "RC-022"],
     "procedure": "45 participants (adults, teenagers, caregivers), simulated use including "
     "link loss, localised keyboards and double-dosing scenarios."},
    {"code": "TC-032", "title": "Independent penetration test", "level": "system",
     "effectiveness_of": ["RC-015", "RC-016", "RC-017", "RC-018", "RC-020", "RC-021"],
     "procedure": "Grey-box test of pump radio, app and cloud by an external lab."},
    {"code": "TC-033", "title": "Alarm recognition (IEC 60601-1-8)", "level": "validation",
     "method": "demonstration", "effectiveness_of": ["RC-008", "RC-014", "RC-019"],
     "procedure": "Sleeping-participant alarm recognition at 45 dB ambient."},
    {"code": "TC-034", "title": "MR Unsafe comprehension", "level": "validation",
     "method": "demonstration", "effectiveness_of": ["RC-012"],
     "procedure": "Radiographers and patients interpret the marking and the wallet card."},
    {"code": "TC-035", "title": "End-to-end remote bolus system test", "level": "system",
     "requirements": ["SRS-002"], "effectiveness_of": ["RC-001"],
     "procedure": "Remote bolus from app through pump with scripted link faults, 7 days."},
]  # fmt: skip
