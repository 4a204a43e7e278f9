"""Texts of the demo messages (Dutch and French, invented, no real patient)."""

from __future__ import annotations

TEMPLATES: tuple[tuple[str, list[str]], ...] = (
    (
        "Verslag consultatie cardiologie",
        [
            "Reden van verwijzing: palpitaties bij inspanning.",
            "ECG: sinusritme, 72/min, geen repolarisatiestoornissen.",
            "Echocardiografie: normale linkerventrikelfunctie (EF 60%).",
            "Besluit: geen structureel hartlijden. Holter 24 u gepland.",
        ],
    ),
    (
        "Résultats de laboratoire",
        [
            "Hémoglobine 13,8 g/dL; leucocytes 7,2 x10^9/L; plaquettes 245 x10^9/L.",
            "Créatinine 0,9 mg/dL; eGFR > 90 mL/min/1,73 m².",
            "CRP 3 mg/L. Bilan lipidique dans les normes.",
        ],
    ),
    (
        "Ontslagbrief afdeling interne geneeskunde",
        [
            "Opname wegens community-acquired pneumonie rechts.",
            "Behandeling: amoxicilline-clavulaanzuur IV, daarna per os.",
            "Ontslag in goede algemene toestand. Controle bij huisarts na 1 week.",
        ],
    ),
    (
        "Lettre de sortie — service de pneumologie",
        [
            "Exacerbation de BPCO, GOLD 3.",
            "Traitement: corticoïdes oraux 5 jours, aérosols.",
            "Revalidation respiratoire conseillée.",
        ],
    ),
    (
        "Protocol RX thorax",
        [
            "Geen consolidaties. Geen pleuravocht.",
            "Normale hartschaduw. Besluit: geen acute afwijkingen.",
        ],
    ),
    (
        "Protocole échographie abdominale",
        [
            "Foie de taille normale, échostructure homogène.",
            "Vésicule alithiasique. Reins sans particularité.",
        ],
    ),
    (
        "Verwijsbrief kinesitherapie",
        [
            "Graag 18 sessies kinesitherapie voor lage rugpijn.",
            "Focus op core stability en houdingscorrectie.",
        ],
    ),
    (
        "Demande d'avis neurologique",
        [
            "Céphalées récidivantes depuis 3 mois, sans signe focal.",
            "Merci de votre avis quant à une imagerie cérébrale.",
        ],
    ),
    (
        "Resultaten bloedafname",
        ["HbA1c 6,9%. Nuchtere glycemie 128 mg/dL.", "LDL-cholesterol 96 mg/dL. TSH 1,8 mU/L."],
    ),
    (
        "Compte rendu opératoire",
        [
            "Intervention: cholécystectomie par laparoscopie.",
            "Suites opératoires simples. Sortie à J1.",
        ],
    ),
    (
        "Medicatieschema — aanpassing",
        [
            "Stop: ibuprofen 400 mg.",
            "Start: paracetamol 1 g, max. 3 x per dag.",
            "Ongewijzigd: bisoprolol 2,5 mg 1 x per dag.",
        ],
    ),
    (
        "Rapport de soins infirmiers à domicile",
        [
            "Soins de plaie quotidiens, évolution favorable.",
            "Paramètres stables. Prochaine visite demain matin.",
        ],
    ),
    (
        "Wondzorgverslag",
        [
            "Ulcus cruris mediaal links, 2 x 3 cm, granulerend.",
            "Verband: alginaat, compressie klasse 2.",
        ],
    ),
    (
        "Vaccinatieattest",
        [
            "Griepvaccin toegediend op de consultatie.",
            "Lotnummer genoteerd in het dossier (Vaccinnet).",
        ],
    ),
)

FREE_TEXTS = (
    "Graag opvolging binnen twee weken.",
    "Merci de revoir le patient dans un mois.",
    "Patiënt werd telefonisch op de hoogte gebracht.",
    "Résultats communiqués au patient.",
)

LAB_TABLE = {
    "title": "Ionogramme / Ionogram",
    "rows": [
        {"leftCell": "Sodium / Natrium", "rightCell": "139 mmol/L"},
        {"leftCell": "Potassium / Kalium", "rightCell": "6,4 mmol/L (!)"},
        {"leftCell": "Chlore / Chloor", "rightCell": "101 mmol/L"},
        {"leftCell": "Créatinine / Creatinine", "rightCell": "1,4 mg/dL"},
    ],
}
