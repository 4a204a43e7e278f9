"""What the eHealthBox qualities are called in the compose form, in the page's language.

The codes (DOCTOR, NURSE, HOSPITAL...) are eHealth's; these are the names people read in
the quality list. A quality missing here is shown from its code.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

QUALITY_LABELS = {
    # Care providers
    "DOCTOR": _l("Doctor"),
    "NURSE": _l("Nurse"),
    "DENTIST": _l("Dentist"),
    "PHARMACIST": _l("Pharmacist"),
    "PHYSIOTHERAPIST": _l("Physiotherapist"),
    "MIDWIFE": _l("Midwife"),
    "LOGOPEDIST": _l("Speech therapist"),
    "DIETICIAN": _l("Dietitian"),
    "PSYCHOLOGIST": _l("Clinical psychologist"),
    "ORTHOPTIST": _l("Orthoptist"),
    "PODOLOGIST": _l("Podiatrist"),
    "AUDIOLOGIST": _l("Audiologist"),
    "AUDICIEN": _l("Hearing aid specialist"),
    "OPTICIEN": _l("Optician"),
    "ORTHOPEDIST": _l("Orthopaedic technologist"),
    "TRUSS_MAKER": _l("Truss maker"),
    "IMPLANTPROVIDER": _l("Implant provider"),
    "LAB_TECHNOLOGIST": _l("Medical laboratory technologist"),
    "IMAGING_TECHNOLOGIST": _l("Medical imaging technologist"),
    "PRACTICALNURSE": _l("Care assistant"),
    "PEDIATRIC_NURSE": _l("Paediatric nurse"),
    "PHARMACIST_ASSISTANT": _l("Pharmacy technician"),
    "OCCUPATIONAL_THERAPIST": _l("Occupational therapist"),
    "SOCIAL_WORKER": _l("Social worker"),
    "SPECIALIZED_EDUCATOR": _l("Specialised educator"),
    "AMBULANCE_RESCUER": _l("Ambulance rescuer"),
    "APPLIED_PSYCH_BACHELOR": _l("Bachelor in applied psychology"),
    "FAMILY_SCIENCE_BACHELOR": _l("Bachelor in family sciences"),
    "GERONTOLOGY_MASTER": _l("Master in gerontology"),
    "ORTHOPEDAGOGIST_MASTER": _l("Master in orthopedagogy"),
    "PSYCHOMOTOR_THERAPY": _l("Psychomotor therapist"),
    "READAPTATION_BACHELOR": _l("Bachelor in rehabilitation"),
    # Citizens
    "CITIZEN": _l("Citizen"),
    # Organisations identified by a NIHII number
    "HOSPITAL": _l("Hospital"),
    "PHARMACY": _l("Pharmacy"),
    "LABO": _l("Clinical laboratory"),
    "MEDICAL_HOUSE": _l("Medical house"),
    "GROUP": _l("Group of care providers"),
    "GROUP_DOCTORS": _l("Group of doctors"),
    "GUARD_POST": _l("GP out-of-hours post"),
    "HOME_SERVICES": _l("Home care service"),
    "OFFICE_DOCTORS": _l("Doctors' practice"),
    "OFFICE_DENTISTS": _l("Dental practice"),
    "OF_BAND": _l("Truss makers' practice"),
    "OF_PHYSIOS": _l("Physiotherapy practice"),
    "OTD_PHARMACY": _l("OTD pharmacy"),
    "PALLIATIVE_CARE": _l("Palliative care"),
    "PROT_ACC": _l("Sheltered housing"),
    "PSYCH_HOUSE": _l("Psychiatric nursing home"),
    "RETIREMENT": _l("Care home"),
    # Organisations identified by a CBE or EHP number
    "INSTITUTION": _l("Institution (CBE)"),
    "TREATMENT_CENTER": _l("Treatment centre"),
    "CONSORTIUM": _l("Consortium"),
    "INSTITUTION_EHP": _l("Institution (EHP)"),
    "CTRL_ORGANISM": _l("Supervisory body"),
}

# The identifier types as each language abbreviates them: INSZ (nl), NISS (fr), ENSS (de);
# RIZIV, INAMI, LIKIV; KBO, BCE, ZDU. English keeps eHealth's INSS, NIHII, CBE.
TYPE_LABELS = {
    "INSS": _l("INSS"),
    "SSIN": _l("INSS"),
    "NIHII": _l("NIHII"),
    "CBE": _l("CBE"),
    "EHP": _l("EHP"),
}
# The same written out, for the abbreviation's title.
TYPE_TITLES = {
    "INSS": _l("Social security identification number"),
    "SSIN": _l("Social security identification number"),
    "NIHII": _l("NIHII number"),
    "CBE": _l("Enterprise number"),
    "EHP": _l("eHealth partner number"),
}
