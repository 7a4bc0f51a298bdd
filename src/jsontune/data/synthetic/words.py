"""Word lists the synthetic generators draw from, written for this dataset (no names of real people)."""

from __future__ import annotations

FIRST_NAMES = (
    "Carla", "Omar", "Priya", "Jonas", "Mei", "Lucas", "Amara", "Diego", "Hana", "Tomasz",
    "Fatima", "Ethan", "Ingrid", "Kwame", "Sofia", "Ravi", "Elena", "Noah", "Yuki", "Mateo",
    "Leila", "Oliver", "Zanele", "Pierre", "Aisha", "Liam", "Nadia", "Sven", "Chloe", "Arjun",
    "Greta", "Malik", "Isabel", "Kenji", "Rosa", "Felix", "Amina", "Hugo", "Lena", "Tariq",
)
LAST_NAMES = (
    "Lopez", "Haddad", "Nair", "Berg", "Chen", "Silva", "Okafor", "Ramos", "Sato", "Kowalski",
    "Rahman", "Walsh", "Larsen", "Mensah", "Rossi", "Patel", "Petrova", "Miller", "Tanaka", "Garcia",
    "Moreau", "Hughes", "Dlamini", "Dubois", "Khan", "Murphy", "Novak", "Lindqvist", "Martin", "Singh",
)
CITIES = (
    "Lisbon", "Oslo", "Leeds", "Porto", "Nairobi", "Osaka", "Denver", "Lyon", "Krakow", "Austin",
    "Dublin", "Seville", "Accra", "Toronto", "Melbourne", "Hamburg", "Bergen", "Cork", "Valencia",
    "Chennai", "Boston", "Glasgow", "Turin", "Quebec",
)
COMPANIES = (
    "Northwind Ltd", "Bluebird Studio", "Acme Logistics", "Greenleaf Foods", "Harbor Analytics",
    "Summit Health", "Pixel Forge", "Riverstone Bank", "Cedar Schools", "Brightwave Energy",
    "Juniper Labs", "Maple Retail", "Orbit Media", "Silverline Legal",
)
# (singular, plural): the reference uses the singular, the text the form that fits the quantity.
ORDER_ITEMS = (
    ("notebook", "notebooks"), ("pen", "pens"), ("stapler", "staplers"), ("folder", "folders"),
    ("marker", "markers"), ("mug", "mugs"), ("desk lamp", "desk lamps"), ("battery", "batteries"),
    ("candle", "candles"), ("towel", "towels"), ("plate", "plates"), ("glass", "glasses"),
    ("paintbrush", "paintbrushes"), ("envelope", "envelopes"), ("shelf", "shelves"), ("pillow", "pillows"),
)
STORES = (
    "supply store", "hardware shop", "online shop", "department store", "corner shop",
    "home goods store", "office outlet", "craft store",
)
PRIORITIES = ("low", "normal", "high", "urgent")
DELIVERY_STATUSES = ("in_transit", "out_for_delivery", "delivered", "delayed")
APPOINTMENT_STATUSES = ("confirmed", "pending", "cancelled")
VISIT_REASONS = (
    "checkup", "dental cleaning", "flu shot", "follow-up visit", "eye exam",
    "physiotherapy session", "blood test", "skin check",
)
EMAIL_DOMAINS = ("example.com", "mail.net", "inbox.org", "post.io")
EVENT_TITLES = (
    "Spring Book Fair", "Jazz Night", "Python Meetup", "Charity Fun Run", "Food Truck Festival",
    "Startup Pitch Day", "Winter Craft Market", "Film Club Screening", "Science Open Day",
    "Chess Tournament", "Photography Workshop", "Wine Tasting Evening",
)
VENUES = (
    "Riverside Hall", "Grand Theatre", "Civic Centre", "Harbor Pavilion", "Oak Park", "City Library",
    "Union Hall", "Old Mill", "Lakeside Arena", "Town Square",
)
PRODUCT_NAMES = (
    "wireless mouse", "desk lamp", "water bottle", "backpack", "yoga mat", "coffee grinder",
    "bluetooth speaker", "rain jacket", "office chair", "phone case", "electric kettle", "running shoes",
)
BRANDS = ("Kestrel", "Lumo", "Brightline", "Nimbus", "Orla", "Vanta", "Northpeak", "Zephyr", "Tidewell")
COLORS = ("black", "white", "red", "blue", "green", "grey", "silver", "yellow")
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
CURRENCIES = tuple(CURRENCY_SYMBOLS)
AIRLINE_CODES = ("TP", "SK", "BA", "LH", "AF", "KL", "IB", "AY", "EI", "LX", "UA", "AC")
RESTAURANTS = (
    "Casa Verde", "The Blue Door", "Luigi's", "Sakura House", "Green Olive", "Bistro Nord",
    "Spice Route", "Harbor Grill", "La Petite Table", "Golden Dragon",
)
SEATINGS = ("indoor", "outdoor", "bar")
OCCASIONS = ("birthday", "anniversary", "business dinner", "graduation", "farewell party")
SERVICES = (
    "web design", "logo design", "consulting", "web hosting", "copy editing", "photography",
    "translation", "IT support", "catering", "bookkeeping",
)
JOB_TITLES = (
    "data analyst", "barista", "nurse", "software engineer", "graphic designer", "warehouse associate",
    "accountant", "teacher", "electrician", "sales manager", "marketing assistant",
)
EMPLOYMENT_TYPES = ("full_time", "part_time", "contract", "internship")
WEATHER_CONDITIONS = ("sunny", "cloudy", "rainy", "snowy", "windy", "foggy", "stormy")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
