"""What the eHealthBox qualities are called in the compose form, in the page's language.

The codes (DOCTOR, NURSE, HOSPITAL...) are eHealth's; these are the names people read in
the quality list. A quality missing here is shown from its code.

`*_WORDS` hold the English source words, which a page translates through its
PageLanguage (`web/i18n.py`: a dictionary read once the word is known); `*_LABELS` are the
same as lazy strings, for forms and code that run outside a page's render.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...mailbox.failures import N_

QUALITY_WORDS = {
    # Care providers
    "DOCTOR": N_("Doctor"),
    "NURSE": N_("Nurse"),
    "DENTIST": N_("Dentist"),
    "PHARMACIST": N_("Pharmacist"),
    "PHYSIOTHERAPIST": N_("Physiotherapist"),
    "MIDWIFE": N_("Midwife"),
    "LOGOPEDIST": N_("Speech therapist"),
    "DIETICIAN": N_("Dietitian"),
    "PSYCHOLOGIST": N_("Clinical psychologist"),
    "ORTHOPTIST": N_("Orthoptist"),
    "PODOLOGIST": N_("Podiatrist"),
    "AUDIOLOGIST": N_("Audiologist"),
    "AUDICIEN": N_("Hearing aid specialist"),
    "OPTICIEN": N_("Optician"),
    "ORTHOPEDIST": N_("Orthopaedic technologist"),
    "TRUSS_MAKER": N_("Truss maker"),
    "IMPLANTPROVIDER": N_("Implant provider"),
    "LAB_TECHNOLOGIST": N_("Medical laboratory technologist"),
    "IMAGING_TECHNOLOGIST": N_("Medical imaging technologist"),
    "PRACTICALNURSE": N_("Care assistant"),
    "PEDIATRIC_NURSE": N_("Paediatric nurse"),
    "PHARMACIST_ASSISTANT": N_("Pharmacy technician"),
    "OCCUPATIONAL_THERAPIST": N_("Occupational therapist"),
    "SOCIAL_WORKER": N_("Social worker"),
    "SPECIALIZED_EDUCATOR": N_("Specialised educator"),
    "AMBULANCE_RESCUER": N_("Ambulance rescuer"),
    "APPLIED_PSYCH_BACHELOR": N_("Bachelor in applied psychology"),
    "FAMILY_SCIENCE_BACHELOR": N_("Bachelor in family sciences"),
    "GERONTOLOGY_MASTER": N_("Master in gerontology"),
    "ORTHOPEDAGOGIST_MASTER": N_("Master in orthopedagogy"),
    "PSYCHOMOTOR_THERAPY": N_("Psychomotor therapist"),
    "READAPTATION_BACHELOR": N_("Bachelor in rehabilitation"),
    # Citizens
    "CITIZEN": N_("Citizen"),
    # Organisations identified by a NIHII number
    "HOSPITAL": N_("Hospital"),
    "PHARMACY": N_("Pharmacy"),
    "LABO": N_("Clinical laboratory"),
    "MEDICAL_HOUSE": N_("Medical house"),
    "GROUP": N_("Group of care providers"),
    "GROUP_DOCTORS": N_("Group of doctors"),
    "GUARD_POST": N_("GP out-of-hours post"),
    "HOME_SERVICES": N_("Home care service"),
    "OFFICE_DOCTORS": N_("Doctors' practice"),
    "OFFICE_DENTISTS": N_("Dental practice"),
    "OF_BAND": N_("Truss makers' practice"),
    "OF_PHYSIOS": N_("Physiotherapy practice"),
    "OTD_PHARMACY": N_("OTD pharmacy"),
    "PALLIATIVE_CARE": N_("Palliative care"),
    "PROT_ACC": N_("Sheltered housing"),
    "PSYCH_HOUSE": N_("Psychiatric nursing home"),
    "RETIREMENT": N_("Care home"),
    # Organisations identified by a CBE or EHP number
    "INSTITUTION": N_("Institution (CBE)"),
    "TREATMENT_CENTER": N_("Treatment centre"),
    "CONSORTIUM": N_("Consortium"),
    "INSTITUTION_EHP": N_("Institution (EHP)"),
    "CTRL_ORGANISM": N_("Supervisory body"),
}

# The identifier types as each language abbreviates them: INSZ (nl), NISS (fr), ENSS (de);
# RIZIV, INAMI, LIKIV; KBO, BCE, ZDU. English keeps eHealth's INSS, NIHII, CBE.
TYPE_WORDS = {
    "INSS": N_("INSS"),
    "SSIN": N_("INSS"),
    "NIHII": N_("NIHII"),
    "CBE": N_("CBE"),
    "EHP": N_("EHP"),
}
# The same written out, for the abbreviation's title.
TYPE_TITLE_WORDS = {
    "INSS": N_("Social security identification number"),
    "SSIN": N_("Social security identification number"),
    "NIHII": N_("NIHII number"),
    "CBE": N_("Enterprise number"),
    "EHP": N_("eHealth partner number"),
}

QUALITY_LABELS = {code: _l(word) for code, word in QUALITY_WORDS.items()}
TYPE_LABELS = {code: _l(word) for code, word in TYPE_WORDS.items()}
TYPE_TITLES = {code: _l(word) for code, word in TYPE_TITLE_WORDS.items()}
