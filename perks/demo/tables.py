"""The numbers and words the demo pool draws from (perks.demo.pool).

Per-kind tables are in perks.demo.pool.KINDS order: genuine, automated, gamed, bought
followers, follow-back ring, spam bot.
"""

# Per-kind parameters, in KINDS order. Lognormals are (median, sigma); betas are (a, b).
FOLLOWERS = ((300, 1.6), (400, 1.4), (900, 1.4), (15_000, 1.0), (6_000, 0.8), (20, 1.4))
FRIENDS = ((250, 1.1), (150, 1.2), (500, 1.0), (400, 1.0), (1.0, 0.06), (700, 1.0))
LISTED_RATE = ((0.012, 0.8), (0.01, 0.8), (0.004, 0.8), (6e-4, 0.8), (1.2e-3, 0.8), (1e-3, 1))
FAVES_PER_STATUS = ((0.8, 1.2), (0.05, 1.0), (3.0, 0.8), (0.5, 1.0), (0.7, 1.0), (0.1, 1.2))
POSTS_PER_DAY = ((1.0, 1.1), (14, 0.8), (7, 0.8), (0.8, 1.1), (5, 0.9), (18, 1.0))
AGE_YEARS_BETA = ((1.8, 1.3, 15), (2, 2, 12), (2, 1.6, 15), (1.2, 2.5, 10), (1.5, 2, 12))
SHARE_BETAS = {
    "retweet_share": ((2, 5), (1, 9), (7, 3), (2, 5), (4, 4), (2, 4)),
    "reply_share": ((2, 6), (1, 30), (1.5, 8), (2, 6), (1.5, 8), (1.5, 6)),
    "url_share": ((2, 6), (8, 2), (2, 5), (2, 6), (2, 5), (5, 3)),
    "automation_share": ((0.4, 12), (5, 2), (2, 5), (0.5, 10), (1.5, 5), (3, 3)),
    "interval_regularity": ((2.5, 6), (7, 2), (2, 4), (2, 6), (2.5, 5), (4, 3)),
    "duplicate_text_share": ((1, 40), (2, 6), (1.5, 12), (1, 35), (1.5, 10), (4, 4)),
}
EXTRA_SOURCES = (1.5, 0.3, 2.5, 1.2, 1.5, 0.5)  # Poisson mean of posting sources beyond one
# Probabilities per kind: default_profile, default_profile_image, geo_enabled, has a url.
FLAG_P = ((0.08, 0.2, 0.1, 0.15, 0.2, 0.7), (0.02, 0.06, 0.02, 0.05, 0.05, 0.5),
          (0.3, 0.05, 0.3, 0.25, 0.2, 0.1), (0.3, 0.85, 0.4, 0.5, 0.35, 0.3))
TOPIC_COUNT_P = ((0, .5, .35, .15), (0, 1, 0, 0), (0, .6, .4, 0), (0, .6, .4, 0), (.5, .5, 0, 0),
                 (.85, .15, 0, 0))

FIRST = {
    "en": ("james emma olivia liam noah ava sophia jack grace mason chloe ethan lily ryan amelia "
           "harry isla oscar mia leo ruby george zoe sam nina owen maya tom kate dan").split(),
    "es": "lucia mateo sofia diego valeria pablo carmen javier elena alejandro".split(),
    "fr": "camille louis chloe hugo manon lucas lea jules ines theo".split(),
    "de": "lukas anna felix lena jonas marie paul laura leon mia".split(),
    "it": "marco giulia luca chiara matteo sara alessandro francesca giorgio elisa".split(),
}
LAST = {
    "en": ("smith jones taylor brown walker wright green hall wood clarke hughes turner evans "
           "baker cooper king hill ward moore young allen scott lee parker reed kelly").split(),
    "es": "garcia lopez martinez sanchez perez gomez ruiz diaz moreno navarro".split(),
    "fr": "martin bernard dubois thomas robert richard petit durand leroy moreau".split(),
    "de": "muller schmidt schneider fischer weber meyer wagner becker schulz hoffmann".split(),
    "it": "rossi russo ferrari esposito bianchi romano colombo ricci marino greco".split(),
}
PLACES = {
    "en": ["London", "New York, NY", "Austin, TX", "Manchester, UK", "Toronto", "Sydney",
           "Dublin", "Chicago", "Seattle, WA", "Earth 🌍", "somewhere over the rainbow"],
    "es": ["Madrid", "Barcelona", "Ciudad de México", "Buenos Aires", "Sevilla", "Bogotá"],
    "fr": ["Paris", "Lyon", "Montréal", "Marseille", "Bordeaux", "Bruxelles"],
    "de": ["Berlin", "München", "Wien", "Hamburg", "Köln", "Zürich"],
    "it": ["Milano", "Roma", "Torino, Italia", "Napoli", "Bologna", "Firenze"],
}
ADJ = ("quiet happy little urban wild lazy sunny rainy cosmic lucky rusty tiny salty brave "
       "golden silver mellow wandering sleepy curious electric velvet northern midnight").split()
NOUN = ("fox owl panda otter bee wolf fern moon pixel nomad sparrow lemon maple river comet "
        "tiger koala falcon cactus mango pebble harbor lantern meadow").split()
TOPIC_STYLES = ("{} nerd", "{} enthusiast", "I write about {}", "{} lover", "#{}", "{}",
                "all things {}", "{} addict", "obsessed with {}", "{} fan", "#{}")
FILLERS = ("dad", "mum of two", "views my own", "she/her", "he/him", "always learning",
           "living my best life", "proud auntie", "RTs ≠ endorsements", "night owl", "🌍",
           "✨", "dog person 🐶", "INFJ", "husband & father", "coffee first ☕", "work hard")
SEPARATORS = (" | ", " · ", ". ", " ✦ ", ", ")
AUTO_BIOS = ("Latest {} news and updates", "Automated {} headlines, every hour",
             "Your daily dose of {}", "{} links from around the web", "RSS feed: {}")
AUTO_SUFFIX = ("news", "daily", "feed", "hq", "updates", "wire", "bot")
SPAM_BIOS = ("💰 Make $$$ from home, DM me", "crypto giveaway 🚀 click the link",
             "DM for promo 📩", "follow me and I follow back", "free followers ➡️ link below")
RING_TAGS = ("#followback", "#TeamFollowBack", "follow back 100%", "#F4F", "#IFB")
MINOR_BIOS = ("{} y/o", "9th grade", "class of {}", "high school", "{} | hs")
