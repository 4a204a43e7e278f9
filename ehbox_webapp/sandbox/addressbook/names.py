"""What the sandbox's people and places are made of: common Belgian names, real municipalities.

First and last names common in Flanders (nl), Wallonia and Brussels (fr) and the
German-speaking Community (de); municipalities with their postcode and their names in the
three languages (Gent, Gand). The people made from them are invented. The personas' first
names (Alice, Bram, Chloé) are left out, so a search by one finds the persona.
"""

from __future__ import annotations

# fmt: off
FIRST_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "nl": {
        "F": (
            "An", "Anouk", "Charlotte", "Eline", "Elke", "Els", "Emma", "Fien", "Griet",
            "Hanne", "Ine", "Inge", "Julie", "Katrien", "Laura", "Leen", "Lien", "Lotte",
            "Marie", "Nathalie", "Sara", "Sofie", "Veerle", "Hilde", "Annelies", "Evelien",
        ),
        "M": (
            "Arne", "Bart", "Dirk", "Frederik", "Geert", "Jan", "Jens", "Jeroen", "Joris",
            "Koen", "Kris", "Luc", "Lucas", "Maarten", "Niels", "Pieter", "Pieter-Jan",
            "Ruben", "Sander", "Stijn", "Thomas", "Tom", "Wim", "Wouter", "Filip", "Dries",
        ),
    },
    "fr": {
        "F": (
            "Amélie", "Aurélie", "Camille", "Catherine", "Céline", "Charlotte", "Élise",
            "Émilie", "Hélène", "Isabelle", "Julie", "Léa", "Manon", "Marie", "Mélanie",
            "Nathalie", "Noémie", "Pauline", "Sophie", "Valérie", "Françoise", "Anne-Sophie",
        ),
        "M": (
            "Antoine", "Arnaud", "Benoît", "Cédric", "François", "Frédéric", "Grégoire",
            "Hugo", "Jean", "Julien", "Laurent", "Louis", "Mathieu", "Maxime", "Nicolas",
            "Olivier", "Philippe", "Pierre", "Sébastien", "Thomas", "Jean-François", "Rémi",
        ),
    },
    "de": {
        "F": (
            "Anna", "Ingrid", "Jessica", "Julia", "Katharina", "Laura", "Lea", "Lisa",
            "Marion", "Monika", "Nadine", "Petra", "Sabine", "Sandra", "Sarah", "Birgit",
        ),
        "M": (
            "Andreas", "Björn", "Christian", "Dieter", "Jan", "Jonas", "Jürgen", "Leon",
            "Lukas", "Markus", "Michael", "Ralf", "Stefan", "Thomas", "Tim", "Günter",
        ),
    },
}

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "nl": (
        "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
        "Wouters", "De Smet", "Vermeulen", "Hermans", "Aerts", "Michiels", "Van Damme",
        "Smets", "Martens", "Verstraete", "Coppens", "De Clercq", "Stevens", "Pauwels",
        "Lambrechts", "Desmet", "Van de Velde", "Vandenberghe", "Verhoeven", "Segers",
        "Van Dyck", "Wuyts", "Claeys", "Cools", "De Backer", "Van den Broeck", "Lemmens",
        "Hendrickx", "Verbeke", "Bogaerts", "De Vos", "Van Hoof", "Vercammen", "D'Hondt",
        "Vanhoutte", "De Wilde", "Van Acker", "Verschueren", "Deprez", "Vanderstraeten",
    ),
    "fr": (
        "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leclercq", "Dumont",
        "Renard", "Lejeune", "Collard", "François", "Mathieu", "Henry", "Leroy", "Denis",
        "Lemaire", "Fontaine", "Piette", "Hubert", "Noël", "Jacques", "Thiry", "Michel",
        "Goffin", "Charlier", "Delvaux", "Lecocq", "Wathelet", "Gérard", "Delhaye",
        "Cornet", "Pirard", "Bodart", "Gilles", "Lefèvre", "Hardy", "Massart", "Englebert",
    ),
    "de": (
        "Schmitz", "Heinen", "Krings", "Lentz", "Maraite", "Jousten", "Thissen", "Hilgers",
        "Cremer", "Kohnen", "Huppertz", "Schröder", "Müller", "Weber", "Meyer", "Backes",
        "Kalbusch", "Mreyen", "Fank", "Langer", "Reuter", "Wintgens",
    ),
}

# (postcode, {language: name}, the language spoken there)
MUNICIPALITIES: tuple[tuple[str, dict[str, str], str], ...] = (
    ("1000", {"nl": "Brussel", "fr": "Bruxelles", "de": "Brüssel"}, "fr"),
    ("1030", {"nl": "Schaarbeek", "fr": "Schaerbeek", "de": "Schaerbeek"}, "fr"),
    ("1050", {"nl": "Elsene", "fr": "Ixelles", "de": "Ixelles"}, "fr"),
    ("1070", {"nl": "Anderlecht", "fr": "Anderlecht", "de": "Anderlecht"}, "fr"),
    ("1180", {"nl": "Ukkel", "fr": "Uccle", "de": "Uccle"}, "fr"),
    ("1200", {"nl": "Sint-Lambrechts-Woluwe", "fr": "Woluwe-Saint-Lambert"}, "fr"),
    ("1090", {"nl": "Jette", "fr": "Jette", "de": "Jette"}, "nl"),
    ("2000", {"nl": "Antwerpen", "fr": "Anvers", "de": "Antwerpen"}, "nl"),
    ("2300", {"nl": "Turnhout", "fr": "Turnhout", "de": "Turnhout"}, "nl"),
    ("2500", {"nl": "Lier", "fr": "Lierre", "de": "Lier"}, "nl"),
    ("2800", {"nl": "Mechelen", "fr": "Malines", "de": "Mecheln"}, "nl"),
    ("3000", {"nl": "Leuven", "fr": "Louvain", "de": "Löwen"}, "nl"),
    ("3500", {"nl": "Hasselt", "fr": "Hasselt", "de": "Hasselt"}, "nl"),
    ("3600", {"nl": "Genk", "fr": "Genk", "de": "Genk"}, "nl"),
    ("8000", {"nl": "Brugge", "fr": "Bruges", "de": "Brügge"}, "nl"),
    ("8400", {"nl": "Oostende", "fr": "Ostende", "de": "Ostende"}, "nl"),
    ("8500", {"nl": "Kortrijk", "fr": "Courtrai", "de": "Kortrijk"}, "nl"),
    ("8800", {"nl": "Roeselare", "fr": "Roulers", "de": "Roeselare"}, "nl"),
    ("9000", {"nl": "Gent", "fr": "Gand", "de": "Gent"}, "nl"),
    ("9100", {"nl": "Sint-Niklaas", "fr": "Saint-Nicolas", "de": "Sint-Niklaas"}, "nl"),
    ("9300", {"nl": "Aalst", "fr": "Alost", "de": "Aalst"}, "nl"),
    ("1300", {"nl": "Waver", "fr": "Wavre", "de": "Wavre"}, "fr"),
    ("1400", {"nl": "Nijvel", "fr": "Nivelles", "de": "Nivelles"}, "fr"),
    ("4000", {"nl": "Luik", "fr": "Liège", "de": "Lüttich"}, "fr"),
    ("4800", {"nl": "Verviers", "fr": "Verviers", "de": "Verviers"}, "fr"),
    ("5000", {"nl": "Namen", "fr": "Namur", "de": "Namür"}, "fr"),
    ("5500", {"nl": "Dinant", "fr": "Dinant", "de": "Dinant"}, "fr"),
    ("6000", {"nl": "Charleroi", "fr": "Charleroi", "de": "Charleroi"}, "fr"),
    ("6700", {"nl": "Aarlen", "fr": "Arlon", "de": "Arel"}, "fr"),
    ("7000", {"nl": "Bergen", "fr": "Mons", "de": "Bergen"}, "fr"),
    ("7500", {"nl": "Doornik", "fr": "Tournai", "de": "Doornik"}, "fr"),
    ("4700", {"nl": "Eupen", "fr": "Eupen", "de": "Eupen"}, "de"),
    ("4720", {"nl": "Kelmis", "fr": "La Calamine", "de": "Kelmis"}, "de"),
    ("4730", {"nl": "Raeren", "fr": "Raeren", "de": "Raeren"}, "de"),
    ("4750", {"nl": "Bütgenbach", "fr": "Butgenbach", "de": "Bütgenbach"}, "de"),
    ("4780", {"nl": "Sankt Vith", "fr": "Saint-Vith", "de": "Sankt Vith"}, "de"),
)

STREETS: dict[str, tuple[str, ...]] = {
    "nl": (
        "Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat", "Nieuwstraat",
        "Schoolstraat", "Kapelstraat", "Grote Markt", "Lindenlaan", "Bergstraat",
    ),
    "fr": (
        "Rue de l'Église", "Rue de la Station", "Rue Haute", "Avenue des Tilleuls",
        "Place du Marché", "Rue du Moulin", "Chaussée de Bruxelles", "Rue des Écoles",
    ),
    "de": ("Kirchstraße", "Bahnhofstraße", "Hauptstraße", "Marktplatz", "Schulstraße"),
}

# The saints hospitals and care homes are named after, as each language writes them.
SAINTS: dict[str, tuple[str, ...]] = {
    "nl": ("Sint-Jan", "Sint-Maarten", "Sint-Elisabeth", "Sint-Vincentius", "Sint-Jozef",
           "Sint-Lucas", "Sint-Augustinus", "Sint-Rembert"),
    "fr": ("Saint-Joseph", "Saint-Luc", "Sainte-Élisabeth", "Saint-Vincent", "Saint-Nicolas",
           "Saint-Pierre", "Sainte-Anne", "Saint-Michel"),
    "de": ("St. Nikolaus", "St. Josef", "St. Elisabeth", "St. Vith"),
}
# fmt: on
