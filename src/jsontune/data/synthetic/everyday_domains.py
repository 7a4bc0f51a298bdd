"""Everyday domains written as data (declarative.py): home, travel, food, leisure, personal errands.

Each domain's shapes take different subsets and nestings of its fields, and at least one is a function
call or a form, so one pool of facts is asked for in several schemas.
"""

from __future__ import annotations

from jsontune.data.synthetic.declarative import (
    Amount,
    Choice,
    Clock,
    Code,
    Count,
    Day,
    Domain,
    Email,
    F,
    Flag,
    Items,
    Measure,
    Noun,
    Person,
    Phone,
    Pick,
    Several,
    Shape,
)
from jsontune.data.synthetic.words import CITIES, FIRST_NAMES, PRIORITIES

HOTELS = ("Harbor Inn", "Grand Plaza Hotel", "Seaview Lodge", "Old Town Suites", "Maple Court Hotel",
          "Riverside Hostel", "Alpine Chalet", "Park Lane Hotel")
GROCERIES = (("apple", "apples"), ("banana", "bananas"), ("carton of milk", "cartons of milk"),
             ("loaf of bread", "loaves of bread"), ("egg", "eggs"), ("tomato", "tomatoes"),
             ("bag of rice", "bags of rice"), ("onion", "onions"), ("lemon", "lemons"), ("avocado", "avocados"))
ROOMS = ("kitchen", "living room", "bedroom", "hallway", "office", "bathroom", "garage", "porch")

HOTEL_BOOKINGS = Domain(
    name="hotel_bookings",
    fields={
        "guest": F(Person(), "for {v}", "under the name {v}", label="Guest"),
        "hotel": F(Pick(HOTELS), "at the {v}", "at {v}"),
        "city": F(Pick(CITIES), "in {v}"),
        "check_in": F(Day(), "checking in on {v}", "arriving {v}", label="Check-in"),
        "nights": F(Count(1, 14, ("night", "nights")), "for {v}", "staying {v}"),
        "guests": F(Count(1, 6, ("guest", "guests")), "for {v}", label="Guests"),
        "room_type": F(Choice(("single", "double", "twin", "suite")), "in a {v} room", label="Room"),
        "breakfast": F(Flag("with breakfast", "without breakfast"), "{v}", label="Breakfast"),
        "email": F(Email(), "confirmation to {v}", label="Email"),
        "phone": F(Phone(), "phone {v}", unknown="no phone number given"),
        "rate": F(Amount(60, 400), "at {v} a night", label="Nightly rate"),
    },
    shapes=(
        Shape("hotel_booking", "guest hotel check_in nights room_type breakfast?", root="booking"),
        Shape("hotel_stay", "hotel city? check_in nights guests rate?", root="stay"),
        Shape("hotel_guest", "guest:guest,email,phone! hotel check_in nights", root="reservation"),
        Shape("book_hotel", "hotel check_in nights guests? room_type? breakfast?", task="function_call",
              description="Books a hotel room"),
        Shape("hotel_registration_form", "guest email phone! check_in nights breakfast", task="form"),
    ),
    intros=("New hotel booking", "Hotel reservation", "Please note a hotel booking", "Booking request"),
    requests=("Book me a room", "I need a hotel room", "Please reserve a room", "Can you book a room"),
    synonyms={
        "guest": ("guest_name", "name", "booked_by"), "hotel": ("hotel_name", "property"),
        "check_in": ("arrival", "check_in_date", "arrival_date"), "nights": ("num_nights", "length_of_stay"),
        "guests": ("num_guests", "occupants"), "room_type": ("room", "room_category"),
        "breakfast": ("breakfast_included", "with_breakfast"), "booking": ("hotel_booking",),
        "stay": ("hotel_stay", "visit"), "reservation": ("booking",), "rate": ("nightly_rate", "price_per_night"),
        "email": ("email_address",), "phone": ("phone_number", "telephone"),
    },
)

SHOPPING_LISTS = Domain(
    name="shopping_lists",
    fields={
        "store": F(Pick(("the market", "the corner shop", "the supermarket", "the bakery")), "from {v}",
                   label="Store"),
        "items": F(Items({"name": Noun(GROCERIES), "quantity": Count(1, 8)}, "{quantity} {name}"), "{v}",
                   label="Items"),
        "needed_by": F(Day(), "needed by {v}", label="Needed by"),
        "budget": F(Amount(10, 120), "with a budget of {v}", label="Budget"),
        "organic": F(Flag("organic only", "organic not needed"), "{v}", label="Organic"),
        "owner": F(Pick(("Carla", "Omar", "Priya", "Jonas", "Mei", "Lucas")), "for {v}", label="For"),
    },
    shapes=(
        Shape("shopping_list", "owner items store? needed_by?", root="shopping_list"),
        Shape("grocery_run", "store items budget organic?"),
        Shape("add_to_list", "items store?", task="function_call",
              description="Adds items to the shopping list"),
    ),
    intros=("Shopping list", "Groceries to buy", "Please write down a shopping list", "Things to get"),
    requests=("Add to my shopping list", "Put on the list", "Please add"),
    synonyms={"items": ("groceries", "products", "list"), "name": ("item", "product"),
              "quantity": ("qty", "count"), "store": ("shop", "where"), "needed_by": ("due", "deadline"),
              "budget": ("max_spend", "spending_limit"), "organic": ("organic_only",),
              "owner": ("for", "person"), "shopping_list": ("list",)},
)

SMART_HOME = Domain(
    name="smart_home",
    fields={
        "room": F(Pick(ROOMS), "in the {v}", label="Room"),
        "temperature_c": F(Measure(16, 26, "°C"), "to {v}", label="Temperature"),
        "brightness": F(Count(5, 100), "at {v} percent brightness", label="Brightness (%)"),
        "color": F(Pick(("warm white", "cool white", "blue", "amber", "green")), "in {v}", label="Color"),
        "mode": F(Choice(("heat", "cool", "auto", "eco")), "in {v} mode", label="Mode"),
        "at": F(Clock(5, 23), "at {v}", label="Time"),
        "on": F(Flag("switched on", "switched off"), "{v}", label="On"),
    },
    shapes=(
        Shape("set_thermostat", "room temperature_c mode? at?", task="function_call",
              description="Sets the thermostat of a room"),
        Shape("set_lights", "room on brightness? color?", task="function_call",
              description="Turns the lights of a room on or off"),
        Shape("home_scene", "room lights:on,brightness,color? heating:temperature_c,mode", root="scene"),
    ),
    intros=("Home settings", "Smart home update", "Set the house up like this"),
    requests=("Please set the home", "Hey, adjust things", "Set it", "Can you set"),
    synonyms={"room": ("location", "area"), "temperature_c": ("target_temp", "degrees_c"),
              "brightness": ("level", "dim_percent"), "color": ("colour", "light_color"),
              "mode": ("hvac_mode",), "at": ("time", "when"), "on": ("power", "is_on"),
              "lights": ("lighting",), "heating": ("climate", "thermostat"), "scene": ("setting",)},
)

# Word lists of the domains below (made up, like words.py).
CAR_EXTRAS = ("child seat", "GPS", "roof box", "snow chains", "ski rack", "wifi hotspot", "bike rack")
RECIPE_TITLES = ("Lentil Soup", "Lemon Tart", "Chickpea Curry", "Mushroom Risotto", "Banana Bread", "Veggie Lasagne",
                 "Garlic Noodles", "Apple Crumble", "Spinach Pie", "Tomato Gnocchi")
INGREDIENTS = ("flour", "rice", "lentils", "butter", "sugar", "cheese", "tomatoes", "spinach", "oats", "chickpeas",
               "potatoes", "mushrooms")
RECIPE_TAGS = ("quick", "budget", "kid friendly", "gluten free", "single pan", "make ahead", "freezer friendly")
EXERCISES = ("squats", "push-ups", "lunges", "burpees", "pull-ups", "sit-ups", "deadlifts", "kettlebell swings")
PET_NAMES = ("Biscuit", "Pepper", "Mango", "Luna", "Rocket", "Noodle", "Maple", "Ziggy", "Pickles", "Clover")
PET_MEDICATIONS = ("joint tablets", "ear drops", "flea treatment", "heart pills", "eye cream", "vitamin paste")
MOVIES = ("The Silent Harbor", "Paper Moons", "Midnight Orchard", "Glass Rivers", "The Clockmaker's Dog",
          "Northern Static", "Velvet Storm", "Echo Valley", "Paper Lanterns", "A Summer of Kites")
CINEMAS = ("Starlight Cinema", "Riverside Screens", "Palace Picturehouse", "Moonbeam Cinema", "Cinema Nova",
           "Old Town Pictures", "Galaxy Multiplex")
SEATS = ("D4", "D5", "E7", "E8", "F10", "F11", "G2", "H12", "J3", "K9")
SNACKS = (("large popcorn", "large popcorns"), ("soda", "sodas"), ("bag of nachos", "bags of nachos"),
          ("hot dog", "hot dogs"), ("ice cream", "ice creams"), ("bottle of water", "bottles of water"))
RETURN_ITEMS = (("backpack", "backpacks"), ("desk lamp", "desk lamps"), ("water bottle", "water bottles"),
                ("rain jacket", "rain jackets"), ("phone case", "phone cases"), ("yoga mat", "yoga mats"),
                ("coffee grinder", "coffee grinders"), ("pair of running shoes", "pairs of running shoes"))
RETURN_PRODUCTS = ("wireless mouse", "desk lamp", "water bottle", "backpack", "yoga mat", "coffee grinder",
                   "bluetooth speaker", "rain jacket", "electric kettle", "office chair")
# Some addresses hold commas (a town, a postcode): an answer copies the whole address as written, not its first part.
ADDRESSES = ("14 Elm Street", "22 Oak Road, Leeds LS6 2AB", "9 Harbor View", "31 Mill Lane, Bristol",
             "5 Station Road", "48 Birch Avenue, Apt 3, Dayton, OH 45402", "Unit 7 Quay Court, Cork", "2 Chapel Row",
             "310 Lake Drive, Madison, WI 53703", "Flat 2, 17 Kings Road, Brighton")
LANDMARKS = ("Central Station", "Airport Terminal 2", "City Library", "Harbor Pavilion", "Grand Theatre",
             "Oak Park Gate", "North Campus", "Riverside Hospital", "Union Station, Denver", "Gare du Nord, Paris")
ALARM_LABELS = ("Wake up", "Gym", "Take medicine", "School run", "Team call", "Pick up laundry", "Water the plants",
                "Leave for work", "Tea")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
REMINDER_TASKS = ("call the dentist", "renew the passport", "pay the water bill", "buy a birthday card",
                  "book a haircut", "return the library books", "water the garden", "send the invoice",
                  "check the tyre pressure", "back up the laptop")
REMINDER_PLACES = ("home", "work", "the gym", "the pharmacy", "the post office", "school")
CHECKLIST = ("bring the ID", "take the receipt", "print the form", "check the opening hours", "charge the phone",
             "pack the charger")
REMINDER_LISTS = ("Personal", "Work", "Errands", "Family", "Health", "Household")
# Bodies as people write them, capitals and punctuation included: an answer copies them exactly.
MESSAGE_BODIES = ("running a bit late", "Dinner is ready!", "Call me when you land.",
                  "the keys are under the mat", "Happy birthday, Sam!", "see you at the station",
                  "Can you pick up milk on the way home?", "The meeting moved to Thursday, 10am.",
                  "thanks for the lovely evening", "Running 15 minutes late, start without me.")
MESSAGE_SUBJECTS = ("Weekend plans", "Trip photos", "Book club", "Flat keys", "Birthday party", "Car share",
                    "Garden tools", "Holiday dates")
ATTACHMENTS = ("photo.jpg", "invoice.pdf", "map.png", "notes.docx", "ticket.pdf", "plan.xlsx")
TRACKS = ("Lanterns Over Lisbon", "Blue Static", "Winter Kitchen", "Slow Tide", "Neon Orchard", "Marble Sky",
          "Backroad Letters", "Quiet Engines", "Salt and Cedar", "Paper Comets")
ARTISTS = ("The Velvet Foxes", "Mira Soll", "Northbound Echo", "Kato and the Lanterns", "Juniper Drift",
           "Lumen Choir", "Ostara Lane", "Cobalt Parade", "Ivy Harrow")
PLAYLISTS = ("Morning Run", "Focus", "Road Trip", "Dinner Party", "Sunday Chill", "Late Night", "Workout Mix",
             "Rainy Day")
BOOK_TITLES = ("The Salt Orchard", "A Map of Small Rivers", "Night Trains North", "The Patient Gardener",
               "Copper and Rain", "Letters from Bergen", "The Last Lighthouse Keeper", "Quiet Mathematics",
               "Under the Linden", "The Glass Archive")
LIBRARY_BRANCHES = ("Central", "Northside", "Harbor", "Old Town", "Riverside", "Hillcrest")
CAR_PARKS = ("Station Car Park", "Harbor Garage", "Market Street Lot", "Airport Long Stay", "Civic Centre Garage",
             "Riverside Lot", "Museum Car Park")
REPAIR_ISSUES = ("leaking tap", "broken boiler", "blocked drain", "cracked window", "faulty light switch",
                 "stuck front door", "dripping shower", "noisy radiator", "broken oven", "loose handrail")
REPAIR_SLOTS = ("Monday morning", "Tuesday afternoon", "Wednesday evening", "Thursday morning", "Friday afternoon",
                "Saturday morning")
REPAIR_PARTS = (("washer", "washers"), ("hinge", "hinges"), ("fuse", "fuses"), ("light bulb", "light bulbs"),
                ("tap cartridge", "tap cartridges"), ("radiator valve", "radiator valves"),
                ("door handle", "door handles"), ("tube of sealant", "tubes of sealant"))

CAR_RENTALS = Domain(
    name="car_rentals",
    fields={
        "driver": F(Person(), "for {v}", "under the name {v}", label="Driver"),
        "pickup_city": F(Pick(CITIES), "picking up in {v}", "collecting the car in {v}", label="Pick-up city"),
        "dropoff_city": F(Pick(CITIES), "dropping off in {v}", "leaving the car in {v}", label="Drop-off city"),
        "pickup_date": F(Day(), "from {v}", "picking up on {v}", label="Pick-up date"),
        "pickup_time": F(Clock(7, 21), "collecting at {v}", "with pick-up at {v}", label="Pick-up time"),
        "return_date": F(Day(), "until {v}", "returning on {v}", label="Return date",
                         unknown="with no return date given yet"),
        "car_class": F(Choice(("economy", "compact", "midsize", "suv", "van"), {"suv": "SUV", "midsize": "mid-size"}),
                       "in the {v} class", "with a car from the {v} class", label="Car class"),
        "transmission": F(Choice(("automatic", "manual")), "with {v} transmission", label="Transmission"),
        "insurance": F(Flag("with full insurance", "without extra insurance"), "{v}", label="Full insurance"),
        "daily_rate": F(Amount(25, 180), "at {v} a day", "for {v} per day", label="Daily rate"),
        "extras": F(Several(CAR_EXTRAS), "with {v} as extras", label="Extras"),
    },
    shapes=(
        Shape("car_rental", "driver pickup_city pickup_date return_date! car_class insurance?", root="rental"),
        Shape("rental_plan",
              "driver? vehicle:car_class,transmission?,extras? period:pickup_date,pickup_time?,return_date!"),
        Shape("rent_car", "pickup_city pickup_date return_date car_class? transmission? extras?", task="function_call",
              description="Reserves a rental car"),
        Shape("car_rental_form", "driver pickup_city dropoff_city pickup_date pickup_time return_date! insurance "
              "daily_rate?", task="form"),
        Shape("rental_quote", "car_class transmission daily_rate insurance? dropoff_city?", root="quote"),
    ),
    intros=("Car rental", "New car rental", "Rental car booking", "Please note a car hire"),
    requests=("Rent me a car", "I need a rental car", "Please reserve a car", "Book a hire car"),
    synonyms={
        "driver": ("driver_name", "renter", "customer"), "pickup_city": ("pickup_location", "collect_in"),
        "dropoff_city": ("return_city", "dropoff_location"), "pickup_date": ("start_date", "collection_date"),
        "pickup_time": ("collection_time", "start_time"), "return_date": ("end_date", "dropoff_date"),
        "car_class": ("vehicle_class", "category", "car_type"), "transmission": ("gearbox",),
        "insurance": ("full_insurance", "insured"), "daily_rate": ("price_per_day", "rate_per_day"),
        "extras": ("add_ons", "options"), "rental": ("car_rental", "booking"), "vehicle": ("car",),
        "period": ("rental_period", "dates"), "quote": ("rental_quote", "offer"),
    },
)

TRAIN_TICKETS = Domain(
    name="train_tickets",
    fields={
        "passenger": F(Person(), "for {v}", "in the name of {v}", label="Passenger"),
        "origin": F(Pick(CITIES), "from {v}", label="From"),
        "destination": F(Pick(CITIES), "to {v}", label="To"),
        "travel_date": F(Day(), "on {v}", "travelling on {v}", label="Travel date"),
        "departure": F(Clock(5, 22), "leaving at {v}", "departing at {v}", label="Departure time"),
        "travel_class": F(Choice(("first", "standard", "business")), "in {v} class", label="Class"),
        "adults": F(Count(1, 4, ("adult", "adults")), "for {v}", label="Adults"),
        "children": F(Count(1, 3, ("child", "children")), "with {v}", label="Children"),
        "return_trip": F(Flag("with a return ticket", "without a return"), "{v}", label="Return ticket"),
        "seat": F(Code(("A", "B", "C", "D"), 2), "in seat {v}", label="Seat", unknown="with no seat reserved"),
        "fare": F(Amount(9, 220), "costing {v}", "at a fare of {v}", label="Fare",
                  unknown="with the fare still to be confirmed"),
    },
    shapes=(
        Shape("train_ticket", "passenger origin destination travel_date departure? travel_class seat!", root="ticket"),
        Shape("train_journey", "route:origin,destination travel_date departure return_trip? fare?"),
        Shape("book_train", "origin destination travel_date departure? travel_class? adults? children? return_trip?",
              task="function_call", description="Books train tickets for a journey"),
        Shape("train_booking_form", "passenger origin destination travel_date adults children? travel_class fare!",
              task="form"),
        Shape("group_booking", "passengers:adults,children? origin destination fare!", root="booking"),
    ),
    intros=("Train ticket", "Rail booking", "Please book a train ticket", "New train reservation"),
    requests=("Book me a train", "Get me train tickets", "I need a train ticket", "Please book a train"),
    synonyms={
        "passenger": ("traveller", "passenger_name", "name"), "origin": ("from", "departure_station", "start"),
        "destination": ("to", "arrival_station", "end"), "travel_date": ("date", "departure_date"),
        "departure": ("departure_time", "leaves_at"), "travel_class": ("class", "fare_class", "cabin"),
        "adults": ("num_adults", "adult_passengers"), "children": ("num_children", "kids"),
        "return_trip": ("return", "round_trip"), "seat": ("seat_number", "seat_no"),
        "fare": ("price", "ticket_price"), "ticket": ("train_ticket",), "route": ("journey", "trip"),
        "passengers": ("party", "travellers"), "booking": ("reservation", "train_booking"),
    },
)

RECIPES = Domain(
    name="recipes",
    fields={
        "title": F(Pick(RECIPE_TITLES), "called {v}", "for {v}", label="Recipe"),
        "author": F(Person(), "by {v}", "shared by {v}", label="Author"),
        "servings": F(Count(2, 8, ("serving", "servings")), "making {v}", "that makes {v}", label="Servings"),
        "prep_time_min": F(Measure(5, 45, "minutes", 5), "with {v} of prep", "taking {v} to prepare",
                           label="Prep time (minutes)"),
        "cook_time_min": F(Measure(10, 120, "minutes", 5), "cooking for {v}", "with {v} of cooking",
                           label="Cooking time (minutes)"),
        "oven_temp_c": F(Measure(160, 240, "°C", 10), "baked at {v}", "with the oven at {v}",
                         label="Oven temperature (°C)", unknown="with no oven temperature given"),
        "difficulty": F(Choice(("easy", "medium", "hard")), "rated {v}", label="Difficulty"),
        "cuisine": F(Choice(("italian", "mexican", "indian", "japanese", "french", "greek"),
                            {c: c.capitalize() for c in ("italian", "mexican", "indian", "japanese", "french",
                                                         "greek")}),
                     "in the {v} style", label="Cuisine"),
        "vegetarian": F(Flag("suitable for vegetarians", "not suitable for vegetarians"), "{v}", label="Vegetarian"),
        "ingredients": F(Items({"ingredient": Pick(INGREDIENTS), "quantity_g": Measure(25, 500, "g", 25)},
                               "{quantity_g} of {ingredient}"), "with {v}", "using {v}", label="Ingredients"),
        "tags": F(Several(RECIPE_TAGS), "tagged {v}", label="Tags"),
    },
    shapes=(
        Shape("recipe", "title servings ingredients cook_time_min? vegetarian?", root="recipe"),
        Shape("recipe_card", "title author? cooking:prep_time_min,cook_time_min,oven_temp_c! difficulty"),
        Shape("save_recipe", "title ingredients servings? cuisine? tags?", task="function_call",
              description="Saves a recipe to the cookbook"),
        Shape("recipe_submission_form", "author title cuisine difficulty vegetarian servings prep_time_min?",
              task="form"),
        Shape("dish_overview", "title cuisine? tags vegetarian oven_temp_c!", root="overview"),
    ),
    intros=("New recipe", "Recipe", "Here is a recipe", "Please write down a recipe"),
    requests=("Save this recipe", "Add a recipe to my cookbook", "Please store a recipe"),
    synonyms={
        "title": ("name", "recipe_name", "dish"), "author": ("created_by", "chef"),
        "servings": ("serves", "portions", "yield"), "prep_time_min": ("prep_minutes", "preparation_min"),
        "cook_time_min": ("cooking_minutes", "cook_minutes"), "oven_temp_c": ("oven_celsius", "temperature_c"),
        "difficulty": ("level", "skill_level"), "cuisine": ("style", "kitchen"),
        "vegetarian": ("is_vegetarian", "veggie"), "ingredients": ("ingredient_list", "components"),
        "ingredient": ("item", "food"), "quantity_g": ("grams", "amount_g", "weight_g"),
        "tags": ("labels", "keywords"), "recipe": ("dish",), "cooking": ("timings", "method"),
        "overview": ("summary", "dish_summary"),
    },
)

WORKOUTS = Domain(
    name="workouts",
    fields={
        "activity": F(Choice(("running", "cycling", "swimming", "rowing", "walking", "yoga", "strength"),
                             {"strength": "strength training"}), "logged as {v}", "recorded as {v}",
                      label="Activity"),
        "workout_date": F(Day(), "on {v}", label="Date"),
        "start_time": F(Clock(5, 21), "starting at {v}", label="Start time"),
        "duration_min": F(Measure(15, 120, "minutes", 5), "lasting {v}", label="Duration (minutes)"),
        "distance_km": F(Measure(1, 42, "km", 0.5), "covering {v}", label="Distance (km)",
                         unknown="with no distance tracked"),
        "calories": F(Count(100, 900, ("calorie", "calories")), "burning {v}", label="Calories"),
        "avg_heart_rate_bpm": F(Count(90, 175, ("bpm", "bpm")), "with an average heart rate of {v}",
                                label="Average heart rate (bpm)", unknown="without heart-rate data"),
        "intensity": F(Choice(("low", "moderate", "high")), "at {v} intensity", label="Intensity"),
        "exercises": F(Items({"exercise": Pick(EXERCISES), "sets": Count(2, 5), "reps": Count(5, 20)},
                             "{sets} sets of {reps} {exercise}"), "including {v}", "with {v}", label="Exercises"),
        "outdoors": F(Flag("outdoors", "indoors"), "{v}", label="Outdoors"),
    },
    shapes=(
        Shape("workout", "activity workout_date duration_min distance_km! calories?", root="workout"),
        Shape("strength_session", "workout_date exercises duration_min? intensity"),
        Shape("log_workout", "activity duration_min workout_date? start_time? distance_km? outdoors?",
              task="function_call", description="Logs a workout in the fitness tracker"),
        Shape("workout_stats", "activity stats:duration_min,distance_km!,calories,avg_heart_rate_bpm! intensity?",
              root="session"),
        Shape("workout_diary_form", "workout_date start_time activity duration_min intensity outdoors", task="form"),
    ),
    intros=("Workout", "New workout", "Training session", "Exercise entry"),
    requests=("Save a workout", "Add an entry to my fitness log", "Track a session", "Please save a workout"),
    synonyms={
        "activity": ("sport", "workout_type", "exercise_type"), "workout_date": ("date", "day"),
        "start_time": ("started_at", "begin_time"), "duration_min": ("minutes", "length_min"),
        "distance_km": ("km", "distance"), "calories": ("kcal", "calories_burned"),
        "avg_heart_rate_bpm": ("heart_rate", "avg_bpm"), "intensity": ("effort", "intensity_level"),
        "exercises": ("moves", "sets_done"), "exercise": ("name", "movement"), "sets": ("set_count", "rounds"),
        "reps": ("repetitions", "rep_count"), "outdoors": ("outside", "is_outdoor"), "workout": ("activity_log",),
        "stats": ("metrics", "summary"), "session": ("training_session", "entry"),
    },
)

PET_CARE = Domain(
    name="pet_care",
    fields={
        "pet_name": F(Pick(PET_NAMES), "looking after {v}", "caring for {v}", label="Pet"),
        "species": F(Choice(("dog", "cat", "rabbit", "parrot", "hamster", "tortoise")), "with the pet being a {v}",
                     label="Species"),
        "service": F(Choice(("feeding", "grooming", "boarding", "walking", "vet_visit", "nail_trim"),
                            {"walking": "walks", "vet_visit": "a vet visit", "nail_trim": "a nail trim"}),
                     "booked for {v}", "covering {v}", label="Service"),
        "owner": F(Person(), "for the owner {v}", "on behalf of {v}", label="Owner"),
        "owner_phone": F(Phone(), "with the owner reachable on {v}", label="Owner phone",
                         unknown="with no phone number for the owner"),
        "start_date": F(Day(), "starting {v}", "from {v}", label="Start date"),
        "visits": F(Count(1, 14, ("visit", "visits")), "for {v}", "with {v} in total", label="Visits"),
        "weight_kg": F(Measure(1, 35, "kg", 0.5), "with the pet weighing {v}", "weighing {v}", label="Weight (kg)",
                       unknown="with the weight not known"),
        "medications": F(Several(PET_MEDICATIONS), "needing {v}", label="Medications"),
        "price": F(Amount(15, 150), "priced at {v}", label="Price"),
        "indoor_only": F(Flag("kept indoors only", "allowed outside"), "{v}", label="Indoor only"),
    },
    shapes=(
        Shape("pet_care_booking", "pet_name species service start_date visits price?", root="booking"),
        Shape("pet_profile", "pet:pet_name,species,weight_kg! contact:owner,owner_phone! medications?"),
        Shape("book_pet_care", "pet_name service start_date visits? medications?", task="function_call",
              description="Books a pet care service"),
        Shape("pet_intake_form", "owner owner_phone! pet_name species weight_kg! indoor_only medications?",
              task="form"),
        Shape("pet_care_visit", "pet_name service indoor_only? price start_date?"),
    ),
    intros=("Pet care booking", "Pet sitting request", "New pet care job", "Please note a pet care visit"),
    requests=("Please arrange pet care", "Find a pet sitter", "Set up pet care", "I need pet care"),
    synonyms={
        "pet_name": ("pet", "animal_name", "name"), "species": ("animal", "pet_type", "kind"),
        "service": ("care_type", "service_type"), "owner": ("owner_name", "client"),
        "owner_phone": ("phone", "contact_number"), "start_date": ("from_date", "first_day"),
        "visits": ("num_visits", "visit_count"), "weight_kg": ("weight", "kg"),
        "medications": ("medicines", "meds"), "price": ("cost", "total_price"),
        "indoor_only": ("indoors_only", "house_pet"), "booking": ("pet_booking", "job"),
        "pet": ("animal", "pet_details"), "contact": ("owner_contact", "owner_details"),
    },
)

MOVIE_TICKETS = Domain(
    name="movie_tickets",
    fields={
        "movie": F(Pick(MOVIES), "for {v}", "to see {v}", label="Movie"),
        "cinema": F(Pick(CINEMAS), "at {v}", label="Cinema"),
        "show_date": F(Day(), "on {v}", label="Date"),
        "showtime": F(Clock(11, 23), "for the {v} showing", "starting at {v}", label="Showtime"),
        "tickets": F(Count(1, 6, ("ticket", "tickets")), "with {v}", label="Tickets"),
        "screen_format": F(Choice(("2d", "3d", "imax"), {"2d": "2D", "3d": "3D", "imax": "IMAX"}), "in {v}",
                           label="Format"),
        "seats": F(Several(SEATS), "seated at {v}", label="Seats", unknown="with the seats not chosen yet"),
        "total_price": F(Amount(8, 90), "paying {v}", "for {v} in total", label="Total price"),
        "snacks": F(Items({"snack": Noun(SNACKS), "quantity": Count(1, 4)}, "{quantity} {snack}"), "adding {v}",
                    "plus {v}", label="Snacks"),
        "member_discount": F(Flag("using a member card", "without a member card"), "{v}", label="Member discount"),
        "email": F(Email(), "sending the tickets to {v}", label="Email",
                   unknown="with no email address for the tickets"),
    },
    shapes=(
        Shape("movie_ticket", "movie cinema show_date showtime tickets screen_format?", root="purchase"),
        Shape("seat_selection", "movie showing:cinema?,show_date,showtime seats!"),
        Shape("buy_movie_tickets", "movie show_date showtime tickets screen_format? member_discount?",
              task="function_call", description="Buys cinema tickets for a showing"),
        Shape("movie_booking_form", "email! movie cinema show_date showtime tickets total_price?", task="form"),
        Shape("snack_order", "snacks tickets? total_price member_discount?", root="order"),
    ),
    intros=("Cinema booking", "Movie night booking", "Film booking", "New cinema order"),
    requests=("Book seats for a film", "Book me into a movie", "Please book the cinema", "I want to see a film"),
    synonyms={
        "movie": ("film", "title", "movie_title"), "cinema": ("theater", "venue"),
        "show_date": ("date", "screening_date"), "showtime": ("time", "start_time", "screening_time"),
        "tickets": ("num_tickets", "ticket_count"), "screen_format": ("format", "projection"),
        "seats": ("seat_numbers", "seat_list"), "total_price": ("total", "amount_paid"),
        "snacks": ("concessions", "food"), "snack": ("item", "product"), "quantity": ("qty", "count"),
        "member_discount": ("member", "loyalty_card"), "email": ("email_address", "send_to"),
        "purchase": ("ticket_order", "booking"), "showing": ("screening", "show"), "order": ("snack_order",),
    },
)

RETURNS = Domain(
    name="returns",
    fields={
        "order_id": F(Code(("ORD-", "R"), 6), "for order {v}", "on order {v}", label="Order number"),
        "product": F(Pick(RETURN_PRODUCTS), "for the {v}", "about the {v}", label="Product"),
        "items": F(Items({"item": Noun(RETURN_ITEMS), "quantity": Count(1, 3)}, "{quantity} {item}"),
                   "sending back {v}", label="Items"),
        "reason": F(Choice(("damaged", "wrong_item", "too_small", "too_large", "not_as_described", "changed_mind"),
                           {"damaged": "it arrived damaged", "wrong_item": "the wrong item was sent",
                            "too_small": "it is too small", "too_large": "it is too large",
                            "not_as_described": "it is not as described",
                            "changed_mind": "the buyer changed their mind"}),
                    "because {v}", label="Reason"),
        "resolution": F(Choice(("refund", "exchange", "store_credit"),
                               {"refund": "a refund", "exchange": "an exchange"}), "asking for {v}",
                        label="Resolution"),
        "purchase_date": F(Day(), "bought on {v}", label="Purchase date", unknown="with the purchase date unknown"),
        "refund_amount": F(Amount(5, 400), "expecting {v} back", "for a refund of {v}", label="Refund amount",
                           unknown="with the refund amount still to be worked out"),
        "opened": F(Flag("opened", "still sealed"), "{v}", label="Opened"),
        "courier_pickup": F(Flag("with a courier pickup", "to be dropped off at a store"), "{v}",
                            label="Courier pickup"),
        "email": F(Email(), "contact {v}", "with updates to {v}", label="Email"),
    },
    shapes=(
        Shape("return_request", "order_id product reason resolution opened?", root="return"),
        Shape("refund_claim", "order_id product? refund_amount! purchase_date! reason"),
        Shape("start_return", "order_id items reason resolution? courier_pickup?", task="function_call",
              description="Opens a return for items from an order"),
        Shape("return_form", "email order_id purchase_date! product reason opened courier_pickup?", task="form"),
        Shape("multi_item_return", "order:order_id,purchase_date? items refund_amount?", root="request"),
    ),
    intros=("Return request", "Product return", "Please log a return", "New refund request"),
    requests=("Start a return", "I want to return something", "Please open a return", "Set up a return"),
    synonyms={
        "order_id": ("order_number", "order_ref"), "product": ("product_name", "article"),
        "items": ("returned_items", "products"), "item": ("product_name", "name"), "quantity": ("qty", "count"),
        "reason": ("return_reason", "why"), "resolution": ("wanted_outcome", "remedy"),
        "purchase_date": ("bought_on", "order_date"), "refund_amount": ("refund", "amount"),
        "opened": ("is_opened", "package_opened"), "courier_pickup": ("pickup", "collect"),
        "email": ("contact_email", "email_address"), "return": ("return_request", "rma"),
        "order": ("original_order", "purchase"), "request": ("return_case", "case"),
    },
)

TAXI_RIDES = Domain(
    name="taxi_rides",
    fields={
        "rider": F(Person(), "for {v}", "picking up {v}", label="Rider"),
        "pickup": F(Pick(ADDRESSES), "from {v}", label="Pick-up address"),
        "destination": F(Pick(LANDMARKS), "to {v}", "going to {v}", label="Destination"),
        "ride_date": F(Day(), "on {v}", label="Date"),
        "pickup_time": F(Clock(0, 23), "at {v}", label="Pick-up time"),
        "passengers": F(Count(1, 6, ("passenger", "passengers")), "for {v}", "with {v}", label="Passengers"),
        "bags": F(Count(1, 5, ("bag", "bags")), "carrying {v}", label="Bags"),
        "vehicle": F(Choice(("standard", "large", "luxury", "wheelchair_accessible"),
                            {"wheelchair_accessible": "wheelchair-accessible"}), "with a {v} vehicle",
                     label="Vehicle"),
        "fare_estimate": F(Amount(8, 120), "quoted at {v}", label="Fare estimate", unknown="with no fare quoted yet"),
        "payment": F(Choice(("card", "cash", "app")), "paid by {v}", label="Payment"),
        "child_seat": F(Flag("with a child seat", "without a child seat"), "{v}", label="Child seat"),
    },
    shapes=(
        Shape("taxi_booking", "rider pickup destination pickup_time passengers?", root="ride"),
        Shape("taxi_trip", "route:pickup,destination ride_date pickup_time fare_estimate! payment?"),
        Shape("book_taxi", "pickup destination pickup_time? passengers? vehicle? child_seat?", task="function_call",
              description="Books a taxi ride"),
        Shape("taxi_booking_form", "rider ride_date pickup_time pickup destination passengers bags vehicle?",
              task="form"),
        Shape("group_transfer", "party:passengers,bags?,child_seat? pickup destination fare_estimate!",
              root="transfer"),
    ),
    intros=("Taxi booking", "New taxi ride", "Please note a cab booking", "Ride request"),
    requests=("Get me a taxi", "Book a cab", "I need a ride", "Please send a taxi"),
    synonyms={
        "rider": ("passenger_name", "customer", "name"), "pickup": ("pickup_address", "from", "origin"),
        "destination": ("dropoff", "to", "drop_off_point"), "ride_date": ("date", "day"),
        "pickup_time": ("time", "pickup_at"), "passengers": ("num_passengers", "riders"),
        "bags": ("luggage", "num_bags"), "vehicle": ("vehicle_type", "car_type"),
        "fare_estimate": ("estimated_fare", "quote"), "payment": ("payment_method", "pay_by"),
        "child_seat": ("needs_child_seat", "booster_seat"), "ride": ("taxi", "booking"),
        "route": ("trip", "journey"), "party": ("group", "passenger_info"), "transfer": ("taxi_transfer", "trip"),
    },
)

ALARMS = Domain(
    name="alarms",
    fields={
        "alarm_time": F(Clock(4, 23), "for {v}", "at {v}", label="Time"),
        "alarm_date": F(Day(), "on {v}", label="Date", unknown="with no date given"),
        "label": F(Pick(ALARM_LABELS), "labelled {v}", "called {v}", label="Label"),
        "duration_min": F(Measure(2, 90, "minutes", 1), "for {v}", "lasting {v}", label="Duration (minutes)"),
        "repeat_days": F(Several(WEEKDAYS), "repeating on {v}", "every {v}", label="Repeat on"),
        "sound": F(Choice(("chime", "birdsong", "radio", "beep", "waves")), "with the {v} sound", label="Sound"),
        "snooze_min": F(Measure(5, 15, "minutes", 5), "with {v} of snooze", label="Snooze (minutes)"),
        "vibrate": F(Flag("with vibration", "without vibration"), "{v}", label="Vibrate"),
        "volume_percent": F(Count(10, 100), "at {v} percent volume", label="Volume (%)"),
        "device": F(Choice(("phone", "kitchen_speaker", "bedroom_speaker", "watch")), "on the {v}",
                    label="Device"),
    },
    shapes=(
        Shape("set_alarm", "alarm_time label? repeat_days? sound? vibrate?", task="function_call",
              description="Sets an alarm"),
        Shape("start_timer", "duration_min label? device?", task="function_call",
              description="Starts a countdown timer"),
        Shape("alarm", "alarm_time alarm_date! label repeat_days? snooze_min?", root="alarm"),
        Shape("alarm_settings", "alarm_time settings:sound,volume_percent,vibrate,snooze_min? device?"),
        Shape("alarm_form", "alarm_time label repeat_days sound vibrate", task="form"),
    ),
    intros=("New alarm", "Alarm", "Please note an alarm", "Alarm settings"),
    requests=("Set an alarm", "Please set a timer", "Set a reminder alarm", "Set it up"),
    synonyms={
        "alarm_time": ("time", "ring_at", "wake_time"), "alarm_date": ("date", "on_date"),
        "label": ("name", "title", "alarm_name"), "duration_min": ("minutes", "timer_minutes"),
        "repeat_days": ("repeat", "days", "recurring_days"), "sound": ("tone", "ringtone"),
        "snooze_min": ("snooze", "snooze_minutes"), "vibrate": ("vibration", "haptics"),
        "volume_percent": ("volume", "loudness"), "device": ("speaker", "target_device"),
        "alarm": ("wake_alarm",), "settings": ("options", "preferences"),
    },
)

REMINDERS = Domain(
    name="reminders",
    fields={
        "task": F(Pick(REMINDER_TASKS), "to {v}", label="Task"),
        "remind_date": F(Day(), "on {v}", label="Date"),
        "remind_time": F(Clock(6, 22), "at {v}", label="Time", unknown="with no time set"),
        "priority": F(Choice(PRIORITIES), "with {v} priority", label="Priority"),
        "recurrence": F(Choice(("once", "daily", "weekly", "monthly"),
                               {"once": "just once", "daily": "every day", "weekly": "every week",
                                "monthly": "every month"}), "{v}", "repeating {v}", label="Repeats"),
        "location": F(Pick(REMINDER_PLACES), "when arriving at {v}", label="Location"),
        "assignee": F(Person(), "for {v}", "assigned to {v}", label="For"),
        "alert_before_min": F(Measure(5, 60, "minutes", 5), "alerting {v} before", label="Alert before (minutes)"),
        "checklist": F(Several(CHECKLIST), "remembering to {v}", label="Checklist"),
        "shared": F(Flag("shared with the family", "kept private"), "{v}", label="Shared"),
        "list_name": F(Pick(REMINDER_LISTS), "in the {v} list", label="List"),
    },
    shapes=(
        Shape("reminder", "task remind_date remind_time! priority?", root="reminder"),
        Shape("create_reminder", "task remind_date remind_time? recurrence? alert_before_min?", task="function_call",
              description="Creates a reminder"),
        Shape("errand_reminder", "task when:remind_date,remind_time? location checklist?"),
        Shape("shared_task", "task assignee shared list_name? priority", root="entry"),
        Shape("reminder_form", "task list_name remind_date remind_time! recurrence priority", task="form"),
    ),
    intros=("Reminder", "New reminder", "Please note a reminder", "To-do item"),
    requests=("Remind me", "Set a reminder", "Please remind me", "Don't let me forget"),
    synonyms={
        "task": ("title", "what", "todo"), "remind_date": ("date", "due_date"), "remind_time": ("time", "due_time"),
        "priority": ("importance", "level"), "recurrence": ("repeat", "frequency"),
        "location": ("place", "where"), "assignee": ("assigned_to", "person"),
        "alert_before_min": ("lead_time_min", "notify_before"), "checklist": ("steps", "subtasks"),
        "shared": ("is_shared", "family_shared"), "list_name": ("list", "category"),
        "reminder": ("alert", "note"), "when": ("schedule", "due"), "entry": ("todo_item", "item"),
    },
)

MESSAGES = Domain(
    name="messages",
    fields={
        "recipient": F(Person(), "to {v}", label="To"),
        "recipient_email": F(Email(), "to the address {v}", label="Email address",
                             unknown="with no email address on file"),
        "recipient_phone": F(Phone(), "to the number {v}", label="Phone number",
                             unknown="with no number saved"),
        "channel": F(Choice(("text", "email", "voice_message")), "by {v}", label="Channel"),
        "subject": F(Pick(MESSAGE_SUBJECTS), "with the subject {v}", label="Subject"),
        "body": F(Pick(MESSAGE_BODIES), 'saying "{v}"', label="Message"),
        "send_date": F(Day(), "on {v}", "to go out on {v}", label="Send date"),
        "send_time": F(Clock(6, 23), "at {v}", "to go out at {v}", label="Send time"),
        "urgent": F(Flag("marked urgent", "not urgent"), "{v}", label="Urgent"),
        "attachments": F(Several(ATTACHMENTS), "attaching {v}", label="Attachments"),
        "cc": F(Several(FIRST_NAMES), "copying {v}", label="Cc"),
    },
    shapes=(
        Shape("send_text", "recipient recipient_phone! body send_time?", task="function_call",
              description="Sends a text message"),
        Shape("send_email", "recipient_email subject body cc? attachments?", task="function_call",
              description="Sends an email"),
        Shape("message", "recipient channel body urgent?", root="message"),
        Shape("scheduled_message", "contact:recipient,recipient_email! schedule:send_date,send_time body"),
        Shape("contact_form", "recipient recipient_email subject body urgent", task="form"),
    ),
    intros=("New message", "Message", "Outgoing message", "Please note a message"),
    requests=("Send a message", "Please send a message", "Can you send a note", "Send a note"),
    synonyms={
        "recipient": ("to", "recipient_name", "send_to"), "recipient_email": ("email", "to_address"),
        "recipient_phone": ("phone", "to_number", "mobile"), "channel": ("via", "medium"),
        "subject": ("title", "topic"), "body": ("text", "message_text", "content"),
        "send_date": ("date", "scheduled_date"), "send_time": ("time", "scheduled_time"),
        "urgent": ("is_urgent", "high_priority"), "attachments": ("files", "attached_files"),
        "cc": ("copy_to", "also_to"), "message": ("outgoing", "note"), "contact": ("recipient_info", "person"),
        "schedule": ("when", "delivery"),
    },
)

MUSIC_PLAYBACK = Domain(
    name="music_playback",
    fields={
        "track": F(Pick(TRACKS), 'with the song "{v}"', 'with the track "{v}"', label="Song"),
        "artist": F(Pick(ARTISTS), "by {v}", label="Artist"),
        "playlist": F(Pick(PLAYLISTS), "from the {v} playlist", label="Playlist"),
        "room": F(Pick(ROOMS), "in the {v}", label="Room"),
        "volume_percent": F(Count(5, 100), "at {v} percent volume", label="Volume (%)"),
        "shuffle": F(Flag("on shuffle", "in order"), "{v}", label="Shuffle"),
        "repeat": F(Choice(("off", "track", "all"), {"track": "the current track", "all": "all tracks"}),
                    "with repeat set to {v}", label="Repeat"),
        "sleep_timer_min": F(Measure(10, 90, "minutes", 5), "stopping after {v}", label="Sleep timer (minutes)"),
        "genre": F(Choice(("jazz", "pop", "rock", "classical", "folk", "hip_hop", "ambient")), "with some {v}",
                   label="Genre"),
        "queue": F(Items({"track": Pick(TRACKS), "artist": Pick(ARTISTS)}, '"{track}" by {artist}'),
                   "with {v} queued next", label="Queue"),
    },
    shapes=(
        Shape("play_song", "track artist? room? volume_percent?", task="function_call",
              description="Plays a song on a speaker"),
        Shape("play_playlist", "playlist shuffle? repeat? room? sleep_timer_min?", task="function_call",
              description="Plays a playlist"),
        Shape("now_playing", "track artist playlist? room", root="playback"),
        Shape("speaker_settings", "room settings:volume_percent,shuffle,repeat? sleep_timer_min?"),
        Shape("music_queue", "queue genre? shuffle?"),
    ),
    intros=("Now playing music", "Music is playing", "Speaker status: music playing"),
    requests=("Start playing music", "Please put some music on", "Play some music", "Can you play music"),
    synonyms={
        "track": ("song", "title", "song_title"), "artist": ("band", "performer"),
        "playlist": ("playlist_name", "mix"), "room": ("speaker", "zone"), "volume_percent": ("volume", "level"),
        "shuffle": ("shuffled", "random_order"), "repeat": ("repeat_mode", "loop"),
        "sleep_timer_min": ("sleep_timer", "stop_after_min"), "genre": ("style", "music_genre"),
        "queue": ("up_next", "next_tracks"), "playback": ("player", "now_playing"),
        "settings": ("player_settings", "options"),
    },
)

LIBRARY_LOANS = Domain(
    name="library_loans",
    fields={
        "borrower": F(Person(), "for {v}", "on behalf of {v}", label="Borrower"),
        "card_number": F(Code(("LIB", "C"), 6), "on card {v}", "with library card {v}", label="Library card"),
        "title": F(Pick(BOOK_TITLES), 'of "{v}"', 'covering "{v}"', label="Title"),
        "books": F(Items({"title": Pick(BOOK_TITLES),
                          "format": Choice(("hardback", "paperback", "audiobook", "dvd"), {"dvd": "DVD"})},
                         'the {format} of "{title}"'), "with {v}", label="Items"),
        "loan_date": F(Day(), "checked out on {v}", "taken out on {v}", label="Loan date"),
        "due_date": F(Day(), "due back on {v}", label="Due date"),
        "branch": F(Pick(LIBRARY_BRANCHES), "at the {v} branch", label="Branch"),
        "renewals": F(Count(1, 3, ("time", "times")), "renewed {v}", label="Renewals"),
        "late_fee": F(Amount(1, 25), "with a late fee of {v}", label="Late fee",
                      unknown="with any late fee still to be worked out"),
        "status": F(Choice(("on_loan", "overdue", "returned")), "marked {v}", label="Status"),
        "email_reminder": F(Flag("with an email reminder", "without a reminder"), "{v}", label="Email reminder"),
    },
    shapes=(
        Shape("library_loan", "borrower title loan_date due_date branch?", root="loan"),
        Shape("overdue_notice", "card_number title due_date status late_fee!"),
        Shape("borrow_items", "card_number books due_date? branch?", task="function_call",
              description="Checks out library items on a card"),
        Shape("library_card_form", "borrower card_number branch email_reminder books?", task="form"),
        Shape("loan_record", "member:borrower,card_number item:title,due_date,renewals? status?"),
    ),
    intros=("Library loan", "Library record", "Loan notice", "Please note a library loan"),
    requests=("Start a checkout", "Open a loan", "Please start a checkout", "Set up a loan"),
    synonyms={
        "borrower": ("member_name", "patron", "name"), "card_number": ("library_card", "card_id", "card"),
        "title": ("book_title", "book"), "books": ("loan_items", "materials"), "format": ("medium", "item_type"),
        "loan_date": ("checked_out", "borrowed_on"), "due_date": ("due", "return_by"),
        "branch": ("library", "location"), "renewals": ("times_renewed", "renewal_count"),
        "late_fee": ("fine", "overdue_fee"), "status": ("loan_status", "state"),
        "email_reminder": ("remind_by_email", "notify"), "loan": ("library_loan", "checkout"),
        "member": ("patron_info", "borrower_info"), "item": ("book_info", "loaned_item"),
    },
)

PARKING = Domain(
    name="parking",
    fields={
        "plate": F(Code(("KX", "LM", "RT", "BV", "ZP"), 4), "for plate {v}", "for the car {v}",
                   label="Number plate"),
        "car_park": F(Pick(CAR_PARKS), "at {v}", "in {v}", label="Car park"),
        "parking_date": F(Day(), "on {v}", label="Date"),
        "start_time": F(Clock(6, 22), "from {v}", "starting at {v}", label="Start time"),
        "duration_hours": F(Measure(2, 12, "hours", 0.5), "for {v}", label="Duration (hours)"),
        "fee": F(Amount(2, 60), "paying {v}", "costing {v}", label="Fee"),
        "vehicle_type": F(Choice(("car", "motorbike", "van", "camper")), "parking a {v}", label="Vehicle"),
        "ev_charging": F(Flag("with EV charging", "without charging"), "{v}", label="EV charging"),
        "space": F(Code(("B", "C", "P"), 3), "in space {v}", label="Space", unknown="with no space assigned yet"),
        "rate_type": F(Choice(("hourly", "daily", "monthly")), "on the {v} rate", label="Rate"),
        "email": F(Email(), "sending the receipt to {v}", label="Email"),
    },
    shapes=(
        Shape("parking_session", "plate car_park start_time duration_hours fee?", root="session"),
        Shape("pay_for_parking", "plate car_park duration_hours start_time? rate_type?", task="function_call",
              description="Pays for a parking session"),
        Shape("parking_reservation", "vehicle:plate,vehicle_type,ev_charging? car_park parking_date space!"),
        Shape("parking_permit_form", "email plate vehicle_type rate_type car_park parking_date?", task="form"),
        Shape("parking_receipt", "car_park parking_date fee space! rate_type?", root="receipt"),
    ),
    intros=("Parking", "Parking session", "New parking booking", "Parking record"),
    requests=("Pay for parking", "Start a parking session", "Please pay for parking", "I need to park"),
    synonyms={
        "plate": ("license_plate", "registration", "reg"), "car_park": ("lot", "garage", "parking_lot"),
        "parking_date": ("date", "day"), "start_time": ("from_time", "starts_at"),
        "duration_hours": ("hours", "length_hours"), "fee": ("price", "amount", "cost"),
        "vehicle_type": ("vehicle_kind", "type"), "ev_charging": ("charging", "needs_charger"),
        "space": ("bay", "spot", "space_number"), "rate_type": ("tariff", "rate_plan"),
        "email": ("receipt_email", "email_address"), "session": ("parking_session", "stay"),
        "vehicle": ("car", "vehicle_info"), "receipt": ("parking_receipt", "payment"),
    },
)

HOME_REPAIRS = Domain(
    name="home_repairs",
    fields={
        "tenant": F(Person(), "from {v}", "reported by {v}", label="Tenant"),
        "phone": F(Phone(), "reachable on {v}", label="Phone", unknown="with no phone number given"),
        "address": F(Pick(ADDRESSES), "at {v}", label="Address"),
        "issue": F(Pick(REPAIR_ISSUES), "about the {v}", "to fix the {v}", label="Issue"),
        "room": F(Pick(ROOMS), "in the {v}", label="Room"),
        "urgency": F(Choice(("low", "normal", "high", "emergency")), "marked {v} priority", label="Urgency"),
        "reported_on": F(Day(), "reported on {v}", "raised on {v}", label="Reported on"),
        "entry_allowed": F(Flag("with permission to enter when nobody is home", "only when someone is home"), "{v}",
                           label="Entry allowed"),
        "available_slots": F(Several(REPAIR_SLOTS), "available {v}", label="Available"),
        "quote": F(Amount(40, 900), "quoted at {v}", label="Quote", unknown="with no quote yet"),
        "parts": F(Items({"part": Noun(REPAIR_PARTS), "quantity": Count(1, 4)}, "{quantity} {part}"),
                   "needing {v}", label="Parts"),
    },
    shapes=(
        Shape("repair_request", "tenant address issue room? urgency", root="request"),
        Shape("maintenance_ticket", "issue location:address,room urgency reported_on? quote!"),
        Shape("report_repair", "issue room urgency? entry_allowed? available_slots?", task="function_call",
              description="Reports a repair to the landlord"),
        Shape("repair_form", "tenant phone! address issue room urgency entry_allowed", task="form"),
        Shape("handyman_job", "issue parts quote! available_slots?", root="job"),
    ),
    intros=("Repair request", "Maintenance request", "New repair job", "Please note a repair"),
    requests=("Report a repair", "Please send someone", "Log a maintenance issue", "I need a repair"),
    synonyms={
        "tenant": ("tenant_name", "reported_by", "resident"), "phone": ("phone_number", "contact_number"),
        "address": ("property", "street_address"), "issue": ("problem", "fault", "description"),
        "room": ("area", "where"), "urgency": ("priority", "severity"), "reported_on": ("date", "reported_date"),
        "entry_allowed": ("can_enter", "access_permitted"), "available_slots": ("availability", "time_slots"),
        "quote": ("estimate", "quoted_price"), "parts": ("materials", "parts_needed"), "part": ("name", "item"),
        "quantity": ("qty", "count"), "request": ("repair_request", "ticket"),
        "location": ("place", "property_location"), "job": ("work_order", "task"),
    },
)

DOMAINS: tuple[Domain, ...] = (
    HOTEL_BOOKINGS, SHOPPING_LISTS, SMART_HOME, CAR_RENTALS, TRAIN_TICKETS, RECIPES, WORKOUTS, PET_CARE,
    MOVIE_TICKETS, RETURNS, TAXI_RIDES, ALARMS, REMINDERS, MESSAGES, MUSIC_PLAYBACK, LIBRARY_LOANS, PARKING,
    HOME_REPAIRS,
)
