"""Work domains written as data (declarative.py): business, money, health, school, services.

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
from jsontune.data.synthetic.words import CITIES, COMPANIES, ORDER_ITEMS

# The people, businesses, products, medicines and events below are made up; the car models are common ones.
DEPARTMENTS = ("Finance", "Marketing", "Engineering", "Sales", "Legal", "Operations", "Support")
EXPENSE_MERCHANTS = ("Cafe Lumen", "Metro Taxi", "Harbor Inn", "Skyline Air", "Paper Trail Supplies",
                     "CloudDesk Software", "Bistro Nord", "Rail Express")
EXPENSE_PURPOSES = ("client lunch", "team offsite", "trade fair visit", "training course", "sales trip",
                    "board meeting", "customer workshop", "recruiting event")
EXPENSE_LINES = ("taxi fare", "hotel night", "train ticket", "dinner", "parking", "conference pass",
                 "airport shuttle", "printing")
BANKS = ("Riverstone Bank", "Harbor Savings", "Northgate Credit Union", "Bluefield Bank", "Cedar Trust",
         "Lakeshore Bank", "Summit Mutual")
TRANSFER_PURPOSES = ("rent", "school fees", "consulting fees", "car repairs", "holiday savings", "utility bills",
                     "membership dues", "catering costs")
MEETING_TITLES = ("Budget Review", "Sprint Planning", "Quarterly Kickoff", "Design Critique", "Hiring Debrief",
                  "Vendor Call", "Product Demo", "Roadmap Sync")
MEETING_ROOMS = ("Atlas Room", "Room 204", "Harbor Room", "Studio B", "Boardroom 2", "Cedar Room", "Lab 3")
COLLEAGUES = ("Carla", "Omar", "Priya", "Jonas", "Mei", "Lucas", "Amara", "Diego", "Hana")
TICKET_SUBJECTS = ("failed login after password reset", "wrong amount on invoice", "app crash on startup",
                   "report export error", "missing delivery", "late refund", "verification code not arriving",
                   "locked account")
SOFTWARE_PRODUCTS = ("Ledgerly", "TaskNest", "Cloudbox", "PayPoint", "ShiftBoard", "MailHarbor", "Trackwise")
TICKET_TAGS = ("billing", "login", "mobile", "bug", "refund", "shipping", "account", "performance")
BUG_TITLES = ("Save button does nothing", "Crash when uploading a photo", "Dark mode text unreadable",
              "Search returns duplicates", "Export drops the last row", "Wrong timezone on invoices",
              "Login loops back to start", "Images fail to load")
COMPONENTS = ("checkout", "search", "login", "settings", "reports", "notifications", "sync engine")
VERSIONS = ("2.4.1", "3.0.0", "1.9.7", "4.2.0", "2.5.3", "3.1.2", "5.0.1")
BROWSERS = ("Chrome", "Firefox", "Safari", "Edge", "Opera")
MEDICATIONS = ("Zolvarin", "Cardexol", "Brevamine", "Lunaprex", "Ostiva", "Neurelin", "Tavoxa", "Dermacil")
PHARMACIES = ("Greenway Pharmacy", "Corner Chemist", "Harbor Pharmacy", "Oakside Drugstore", "Central Apothecary",
              "Maple Pharmacy")
LAB_TESTS = ("lipid panel", "metabolic panel", "kidney function panel", "glucose tolerance test",
             "basic chemistry panel", "routine blood panel", "cardiac risk panel", "diabetes screen")
ANALYTES = ("glucose", "total cholesterol", "HDL cholesterol", "LDL cholesterol", "triglycerides", "potassium",
            "urea")
LABS = ("Northside Lab", "Cedar Diagnostics", "Harbor Clinical Lab", "Summit Pathology", "Riverside Lab",
        "Oakwood Medical Lab")
COURSES = ("Intro to Statistics", "Organic Chemistry", "Business Writing", "Data Structures",
           "Spanish for Beginners", "Art History", "Microeconomics", "Web Development")
ADDRESSES = ("12 Elm Street", "48 Harbor Road, Plymouth PL1 2AA", "7 Mill Lane",
             "230 Oak Avenue, Suite 400, Austin, TX 78701", "15 Quarry Close", "91 Station Road, Derby", "3 Garden Row",
             "64 Birch Crescent, Galway")
DAMAGES = ("water damage", "storm damage", "theft", "fire damage", "hail damage", "lost luggage",
           "collision damage", "vandalism")
CLAIM_ITEMS = ("laptop", "bicycle", "sofa", "television", "suitcase", "camera", "phone", "rug")
PROJECTS = ("Apollo Migration", "Website Refresh", "Payroll Upgrade", "Warehouse App", "Data Lake",
            "Mobile Relaunch", "Billing Revamp")
SUPPLIERS = ("Paper Trail Supplies", "Officewise", "Brightdesk Co", "Northwind Ltd", "Acme Logistics",
             "Stackhouse Wholesale", "Kestrel Trading", "Maple Retail")
TIMESHEET_TASKS = ("code review", "client calls", "design work", "testing", "documentation", "planning",
                   "support duty")
WEEKDAYS = {"monday": "Monday", "tuesday": "Tuesday", "wednesday": "Wednesday", "thursday": "Thursday",
            "friday": "Friday"}
VEHICLES = ("Toyota Corolla", "Ford Focus", "Volkswagen Golf", "Honda Civic", "Kia Sportage", "Renault Clio",
            "Skoda Octavia", "Mazda CX-5")
# (singular, plural): the reference uses the singular, the text the form that fits the quantity.
PARTS = (("brake pad", "brake pads"), ("air filter", "air filters"), ("wiper blade", "wiper blades"),
         ("spark plug", "spark plugs"), ("tyre", "tyres"), ("headlight bulb", "headlight bulbs"),
         ("oil filter", "oil filters"))
GARAGES = ("Eastside Motors", "QuickFix Garage", "Harbor Auto Care", "Millbrook Service Centre", "Pitstop Lane",
           "Redline Garage")
CONFERENCES = ("CloudSummit", "DevDays Europe", "FinTech Forum", "Design Week Live", "AI Builders Summit",
               "Green Energy Expo", "HealthTech Days", "Retail Futures")
WORKSHOPS = ("Intro to Kubernetes", "Data Storytelling", "Prompt Design", "Accessible UX", "Pricing Strategy",
             "Security Basics", "Remote Leadership")

EXPENSES = Domain(
    name="expenses",
    fields={
        "employee": F(Person(), "submitted by {v}", "from {v}", label="Employee"),
        "department": F(Pick(DEPARTMENTS), "in the {v} department", label="Department"),
        "merchant": F(Pick(EXPENSE_MERCHANTS), "paid to {v}", "at {v}", label="Merchant"),
        "amount": F(Amount(5, 900), "for {v}", "totalling {v}", label="Amount"),
        "category": F(Choice(("travel", "meals", "lodging", "office_supplies", "software")), "filed under {v}",
                      "in the {v} category", label="Category"),
        "spent_on": F(Day(), "dated {v}", "spent on {v}", label="Date"),
        "purpose": F(Pick(EXPENSE_PURPOSES), "for a {v}", label="Purpose"),
        "receipt_attached": F(Flag("with the receipt attached", "without a receipt"), label="Receipt attached"),
        "billable": F(Flag("billable to the client", "not billable to the client"), label="Billable"),
        "project_code": F(Code(("PRJ-",), 4), "charged to project {v}", label="Project code",
                          unknown="with no project code given"),
        "lines": F(Items({"description": Pick(EXPENSE_LINES), "amount": Amount(5, 400)}, "{description} ({amount})"),
                   "covering {v}", "itemised as {v}", label="Line items"),
    },
    shapes=(
        Shape("expense_report", "employee amount category spent_on merchant? receipt_attached?", root="expense"),
        Shape("expense_claim", "claimant:employee,department? purpose lines project_code!", root="claim"),
        Shape("submit_expense", "amount category spent_on merchant? receipt_attached? billable?",
              task="function_call", description="Submits an expense for reimbursement"),
        Shape("expense_lines", "merchant spent_on lines billable?"),
        Shape("expense_form", "employee department amount spent_on category project_code! receipt_attached",
              task="form"),
    ),
    intros=("Expense report", "New expense claim", "Expense to reimburse", "Please log an expense"),
    requests=("Please submit an expense", "Submit this expense", "File an expense", "I need to claim an expense"),
    synonyms={
        "employee": ("employee_name", "submitted_by", "staff_member"), "department": ("dept", "team"),
        "merchant": ("vendor", "payee"), "amount": ("total", "sum"), "category": ("expense_category", "type"),
        "spent_on": ("date", "expense_date", "transaction_date"), "purpose": ("reason", "business_purpose"),
        "receipt_attached": ("has_receipt", "receipt"), "billable": ("is_billable", "rebillable"),
        "project_code": ("project", "project_id"), "lines": ("line_items", "items", "breakdown"),
        "description": ("item", "label"), "expense": ("expense_report", "report"),
        "claim": ("expense_claim", "reimbursement"), "claimant": ("submitter", "requester"),
    },
)

BANK_TRANSFERS = Domain(
    name="bank_transfers",
    fields={
        "amount": F(Amount(20, 5000, "EUR"), "of {v}", "amounting to {v}", label="Amount"),
        "from_account": F(Code(("CHK-", "SAV-"), 6), "from account {v}", "debited from {v}", label="From account"),
        "recipient": F(Person(), "to {v}", "payable to {v}", label="Recipient"),
        "iban": F(Code(("DE89", "PT50", "GB29", "NL91", "FR76"), 10), "into IBAN {v}", "to IBAN {v}", label="IBAN"),
        "bank": F(Pick(BANKS), "to an account at {v}", "banking with {v}", label="Recipient bank"),
        "reference": F(Code(("INV-", "REF-"), 5), "with reference {v}", label="Payment reference",
                       unknown="with no payment reference"),
        "execute_on": F(Day(), "on {v}", "scheduled for {v}", label="Execution date"),
        "processing": F(Choice(("standard", "express", "instant")), "with {v} processing", label="Processing"),
        "recurring": F(Flag("as a monthly standing order", "as a single payment"), label="Recurring"),
        "purpose": F(Pick(TRANSFER_PURPOSES), "for {v}", "to cover {v}", label="Purpose"),
    },
    shapes=(
        Shape("bank_transfer", "from_account amount recipient iban execute_on? reference!", root="transfer"),
        Shape("transfer_money", "from_account iban amount processing? reference?", task="function_call",
              description="Transfers money from the user's account to an IBAN"),
        Shape("payment_order", "amount payee:recipient,iban,bank? execute_on recurring", root="payment"),
        Shape("scheduled_payment", "amount purpose recurring processing execute_on?"),
        Shape("transfer_form", "recipient iban bank amount purpose? reference! execute_on", task="form"),
    ),
    intros=("Bank transfer", "New payment", "Transfer order", "Outgoing payment"),
    requests=("Please transfer money", "Send a payment", "Make a transfer", "Wire money"),
    synonyms={
        "amount": ("sum", "transfer_amount"), "from_account": ("source_account", "debit_account"),
        "recipient": ("beneficiary", "payee_name"), "iban": ("account_number", "beneficiary_iban"),
        "bank": ("bank_name", "recipient_bank"), "reference": ("payment_reference", "memo"),
        "execute_on": ("date", "execution_date", "value_date"), "processing": ("speed", "priority"),
        "recurring": ("is_recurring", "standing_order"), "purpose": ("reason", "description"),
        "transfer": ("bank_transfer", "wire"), "payment": ("payment_order", "order"),
        "payee": ("beneficiary", "recipient_details"),
    },
)

MEETINGS = Domain(
    name="meetings",
    fields={
        "title": F(Pick(MEETING_TITLES), "titled {v}", "for the {v}", label="Title"),
        "organizer": F(Person(), "organised by {v}", "set up by {v}", label="Organizer"),
        "date": F(Day(), "on {v}", label="Date"),
        "start_time": F(Clock(8, 17), "starting at {v}", "at {v}", label="Start time"),
        "duration_minutes": F(Measure(15, 120, "minutes", 15), "lasting {v}", "for {v}", label="Duration (minutes)"),
        "room": F(Pick(MEETING_ROOMS), "in {v}", label="Room", unknown="with the room still to be booked"),
        "attendees": F(Several(COLLEAGUES, 4), "with {v}", "inviting {v}", label="Attendees"),
        "attendee_count": F(Count(2, 30, ("attendee", "attendees")), "for {v}", "expecting {v}",
                            label="Expected attendees"),
        "online": F(Flag("held online", "held in person"), label="Online"),
        "repeats": F(Choice(("daily", "weekly", "biweekly", "monthly"), {"biweekly": "every other week"}),
                     "repeating {v}", label="Repeats"),
        "dial_in": F(Phone(), "with dial-in {v}", label="Dial-in number", unknown="with no dial-in number yet"),
    },
    shapes=(
        Shape("meeting", "title organizer date start_time duration_minutes? room?", root="meeting"),
        Shape("schedule_meeting", "title date start_time duration_minutes attendees? online? repeats?",
              task="function_call", description="Schedules a meeting in the shared calendar"),
        Shape("meeting_invite", "title organizer when:date,start_time location:room!,online? attendees"),
        Shape("recurring_meeting", "title repeats start_time attendee_count dial_in!", root="series"),
        Shape("room_booking_form", "organizer room date start_time duration_minutes attendee_count", task="form"),
    ),
    intros=("New meeting", "Meeting invite", "Calendar entry", "Please note a meeting"),
    requests=("Schedule a meeting", "Please set up a meeting", "Book a meeting", "Put a meeting in the calendar"),
    synonyms={
        "title": ("subject", "meeting_title", "name"), "organizer": ("host", "organiser", "owner"),
        "date": ("meeting_date", "day"), "start_time": ("start", "time", "begins_at"),
        "duration_minutes": ("length_minutes", "duration_min", "minutes"), "room": ("meeting_room", "venue"),
        "attendees": ("participants", "invitees", "guests"), "attendee_count": ("headcount", "num_attendees"),
        "online": ("is_online", "virtual", "remote"), "repeats": ("recurrence", "frequency"),
        "dial_in": ("dial_in_number", "phone"), "meeting": ("event", "meeting_details"),
        "when": ("schedule", "time_slot"), "location": ("where", "place"), "series": ("recurring_meeting",),
    },
)

SUPPORT_TICKETS = Domain(
    name="support_tickets",
    fields={
        "customer": F(Person(), "from {v}", "reported by {v}", label="Customer"),
        "email": F(Email(), "reachable at {v}", "with contact email {v}", label="Email"),
        "subject": F(Pick(TICKET_SUBJECTS), "about {v}", "regarding {v}", label="Subject"),
        "priority": F(Choice(("low", "normal", "high", "urgent")), "with {v} priority", "at {v} priority",
                      label="Priority"),
        "channel": F(Choice(("email", "phone", "chat", "web_form"), {"web_form": "the web form"}),
                     "received via {v}", "sent in via {v}", label="Channel"),
        "product": F(Pick(SOFTWARE_PRODUCTS), "concerning {v}", "for {v}", label="Product"),
        "ticket_id": F(Code(("TCK-",), 6), "logged as ticket {v}", "under ticket {v}", label="Ticket ID"),
        "order_number": F(Code(("ORD-",), 5), "for order {v}", "about order {v}", label="Order number",
                          unknown="with no order number given"),
        "refund_requested": F(Flag("asking for a refund", "not asking for a refund"), label="Refund requested"),
        "tags": F(Several(TICKET_TAGS), "tagged {v}", label="Tags"),
        "opened_on": F(Day(), "opened on {v}", label="Opened on"),
    },
    shapes=(
        Shape("support_ticket", "ticket_id customer subject priority channel?", root="ticket"),
        Shape("create_ticket", "subject priority product? email? tags?", task="function_call",
              description="Creates a support ticket in the helpdesk"),
        Shape("ticket_intake", "requester:customer,email? issue:subject,product,order_number! priority"),
        Shape("ticket_triage", "ticket_id priority tags refund_requested? opened_on?", root="triage"),
        Shape("support_request_form", "customer email product subject order_number! refund_requested", task="form"),
    ),
    intros=("New support ticket", "Support request", "Helpdesk ticket", "Customer issue"),
    requests=("Open a ticket", "Please create a support ticket", "Log a ticket", "File a helpdesk ticket"),
    synonyms={
        "customer": ("customer_name", "requester_name", "reporter"), "email": ("email_address", "contact_email"),
        "subject": ("summary", "issue_summary", "title"), "priority": ("urgency", "severity"),
        "channel": ("source", "contact_channel"), "product": ("product_name", "app"),
        "ticket_id": ("id", "ticket_number"), "order_number": ("order_id", "order_ref"),
        "refund_requested": ("wants_refund", "refund"), "tags": ("labels", "categories"),
        "opened_on": ("created", "opened_date"), "ticket": ("support_ticket", "case"),
        "requester": ("customer_info", "contact"), "issue": ("problem", "details"),
        "triage": ("triage_result", "routing"),
    },
)

BUG_REPORTS = Domain(
    name="bug_reports",
    fields={
        "title": F(Pick(BUG_TITLES), "titled {v}", "with the summary {v}", label="Title"),
        "reporter": F(Person(), "reported by {v}", "filed by {v}", label="Reporter"),
        "component": F(Pick(COMPONENTS), "in the {v} component", "affecting the {v} component", label="Component"),
        "severity": F(Choice(("trivial", "minor", "major", "critical", "blocker")), "with {v} severity",
                      "of {v} severity", label="Severity"),
        "version": F(Pick(VERSIONS), "in version {v}", "on version {v}", label="Version"),
        "platform": F(Choice(("windows", "macos", "linux", "android", "ios", "web"),
                             {"windows": "Windows", "macos": "macOS", "linux": "Linux", "android": "Android",
                              "ios": "iOS", "web": "the web"}), "on {v}", label="Platform"),
        "reproducible": F(Flag("reproducible every time", "not reliably reproducible"), label="Reproducible"),
        "browsers": F(Several(BROWSERS), "seen in {v}", label="Browsers"),
        "bug_id": F(Code(("BUG-",), 5), "tracked as {v}", label="Bug ID"),
        "assignee": F(Person(), "assigned to {v}", label="Assignee", unknown="not yet assigned to anyone"),
        "found_on": F(Day(), "found on {v}", label="Found on"),
    },
    shapes=(
        Shape("bug_report", "title reporter severity component version? reproducible?", root="bug"),
        Shape("file_bug", "title component severity platform? version? browsers?", task="function_call",
              description="Files a bug in the issue tracker"),
        Shape("bug_triage", "bug_id severity assignee! found_on?", root="triage"),
        Shape("bug_environment", "title environment:platform,version,browsers? reproducible"),
        Shape("bug_report_form", "reporter title component platform version severity reproducible assignee!",
              task="form"),
    ),
    intros=("Bug report", "New bug", "Defect found", "Issue report"),
    requests=("File a bug", "Please log a bug", "Open a bug report", "Report a bug"),
    synonyms={
        "title": ("summary", "bug_title"), "reporter": ("reported_by", "submitter"),
        "component": ("module", "area"), "severity": ("impact", "seriousness"), "version": ("app_version", "release"),
        "platform": ("os", "operating_system"), "reproducible": ("is_reproducible", "repro"),
        "browsers": ("affected_browsers", "seen_in"), "bug_id": ("id", "issue_id"),
        "assignee": ("assigned_to", "owner"), "found_on": ("date_found", "discovered"), "bug": ("issue", "defect"),
        "triage": ("triage_result", "routing"), "environment": ("env", "setup"),
    },
)

PRESCRIPTIONS = Domain(
    name="prescriptions",
    fields={
        "patient": F(Person(), "for {v}", "for patient {v}", label="Patient"),
        "prescriber": F(Person(), "prescribed by Dr {v}", "signed by Dr {v}", label="Prescriber"),
        "medication": F(Pick(MEDICATIONS), "of {v}", "prescribing {v}", label="Medication"),
        "dose_mg": F(Measure(5, 500, "mg", 5), "at {v}", "at a dose of {v}", label="Dose (mg)"),
        "times_per_day": F(Count(1, 4, ("time a day", "times a day")), "taken {v}", label="Times per day"),
        "duration_days": F(Count(3, 90, ("day", "days")), "for {v}", "over {v}", label="Duration (days)"),
        "refills": F(Count(0, 5, ("refill", "refills")), "with {v}", "allowing {v}", label="Refills"),
        "with_food": F(Flag("to be taken with food", "to be taken on an empty stomach"), label="With food"),
        "dosage_form": F(Choice(("tablet", "capsule", "syrup", "cream", "patch")), "dispensed as a {v}",
                         label="Form"),
        "pharmacy": F(Pick(PHARMACIES), "to be collected at {v}", "sent to {v}", label="Pharmacy",
                      unknown="with no pharmacy chosen yet"),
        "rx_number": F(Code(("RX-",), 6), "with prescription number {v}", "numbered {v}", label="Prescription number"),
    },
    shapes=(
        Shape("prescription", "patient medication dose_mg times_per_day duration_days? prescriber?",
              root="prescription"),
        Shape("create_prescription", "patient medication dose_mg dosage_form? refills?", task="function_call",
              description="Creates a prescription record for a patient"),
        Shape("dosing_schedule", "medication dosing:dose_mg,times_per_day,with_food? duration_days"),
        Shape("pharmacy_order", "rx_number patient medication refills pharmacy!", root="order"),
        Shape("prescription_form", "patient prescriber medication dosage_form dose_mg times_per_day pharmacy!",
              task="form"),
    ),
    intros=("Prescription", "New prescription", "Medication record", "Prescription note"),
    requests=("Write a prescription", "Please create a prescription", "Record a prescription"),
    synonyms={
        "patient": ("patient_name", "name"), "prescriber": ("doctor", "prescribed_by"),
        "medication": ("drug", "medicine"), "dose_mg": ("dose", "strength_mg"),
        "times_per_day": ("frequency", "daily_doses"), "duration_days": ("days", "course_days"),
        "refills": ("refill_count", "repeats"), "with_food": ("take_with_food", "with_meals"),
        "dosage_form": ("form", "formulation"), "pharmacy": ("dispensing_pharmacy", "pharmacy_name"),
        "rx_number": ("prescription_number", "rx_id"), "prescription": ("rx", "script"),
        "dosing": ("regimen", "instructions"), "order": ("pharmacy_order", "fill_request"),
    },
)

LAB_RESULTS = Domain(
    name="lab_results",
    fields={
        "patient": F(Person(), "for {v}", "for patient {v}", label="Patient"),
        "test": F(Pick(LAB_TESTS), "from a {v}", "of a {v}", label="Test"),
        "sample_id": F(Code(("LAB-", "SMP-"), 6), "on sample {v}", "for sample {v}", label="Sample ID"),
        "collected_on": F(Day(), "collected on {v}", label="Collected on"),
        "results": F(Items({"analyte": Pick(ANALYTES), "value_mmol_l": Measure(0.5, 12, "mmol/L", 0.1)},
                           "{analyte} at {value_mmol_l}"), "showing {v}", "with {v}", label="Results"),
        "turnaround_hours": F(Measure(2, 72, "hours", 1), "with results back in {v}", "turned around in {v}",
                              label="Turnaround (hours)"),
        "abnormal": F(Flag("flagged as abnormal", "within the normal range"), label="Abnormal"),
        "status": F(Choice(("preliminary", "final", "corrected")), "marked {v}", "reported as {v}", label="Status"),
        "lab": F(Pick(LABS), "processed by {v}", "run at {v}", label="Lab"),
        "ordered_by": F(Person(), "ordered by Dr {v}", label="Ordered by",
                        unknown="with no ordering doctor recorded"),
        "fasting": F(Flag("taken fasting", "taken without fasting"), label="Fasting"),
    },
    shapes=(
        Shape("lab_result", "patient test collected_on status abnormal?", root="result"),
        Shape("lab_panel", "sample_id test results fasting?"),
        Shape("record_lab_result", "sample_id test results status? turnaround_hours?", task="function_call",
              description="Records the results of a lab test for a sample"),
        Shape("lab_report", "patient_info:patient,ordered_by! sample:sample_id,collected_on,fasting? lab",
              root="report"),
        Shape("lab_request_form", "patient ordered_by! test lab collected_on fasting", task="form"),
    ),
    intros=("Lab results", "Lab report", "Test results", "New lab result"),
    requests=("Record a lab result", "Please log these lab results", "Store this test result"),
    synonyms={
        "patient": ("patient_name", "name"), "test": ("test_name", "panel"),
        "sample_id": ("specimen_id", "sample_code"), "collected_on": ("collection_date", "sampled_on"),
        "results": ("analytes", "measurements", "values"), "analyte": ("marker", "component"),
        "value_mmol_l": ("value", "concentration_mmol_l"), "turnaround_hours": ("tat_hours", "hours_to_result"),
        "abnormal": ("is_abnormal", "flagged"), "status": ("report_status", "result_status"),
        "lab": ("laboratory", "lab_name"), "ordered_by": ("doctor", "ordering_physician"),
        "fasting": ("fasted", "fasting_sample"), "result": ("lab_result", "test_result"),
        "patient_info": ("patient_details", "subject"), "sample": ("specimen", "sample_info"),
        "report": ("lab_report", "findings"),
    },
)

COURSE_ENROLLMENTS = Domain(
    name="course_enrollments",
    fields={
        "student": F(Person(), "for {v}", "enrolling {v}", label="Student"),
        "student_id": F(Code(("STU-",), 6), "with student ID {v}", label="Student ID"),
        "course": F(Pick(COURSES), "in {v}", "for the course {v}", label="Course"),
        "course_code": F(Code(("CS", "MA", "EC", "HI", "BI"), 3), "with course code {v}", "coded {v}",
                         label="Course code"),
        "term": F(Choice(("spring", "summer", "fall", "winter")), "for the {v} term", "in the {v} term",
                  label="Term"),
        "credits": F(Count(1, 6, ("credit", "credits")), "worth {v}", label="Credits"),
        "delivery": F(Choice(("in_person", "online", "hybrid"), {"in_person": "in-person"}), "with {v} delivery",
                      label="Delivery"),
        "start_date": F(Day(), "starting {v}", label="Start date"),
        "tuition": F(Amount(200, 4000), "with tuition of {v}", "costing {v}", label="Tuition"),
        "scholarship": F(Flag("with a scholarship", "without a scholarship"), label="Scholarship"),
        "advisor": F(Person(), "advised by {v}", label="Advisor", unknown="with no advisor assigned yet"),
    },
    shapes=(
        Shape("course_enrollment", "student course term credits? delivery?", root="enrollment"),
        Shape("enroll_student", "student_id course_code term delivery? start_date?", task="function_call",
              description="Enrolls a student in a course for a term"),
        Shape("enrollment_record", "learner:student,student_id,advisor! class:course,course_code,credits? term"),
        Shape("tuition_invoice", "student tuition scholarship term start_date?", root="invoice"),
        Shape("enrollment_form", "student student_id course course_code term delivery advisor!", task="form"),
    ),
    intros=("Course enrollment", "New enrollment", "Registration for a course", "Student enrollment"),
    requests=("Enroll a student", "Please sign up a student", "Register a student"),
    synonyms={
        "student": ("student_name", "learner_name"), "student_id": ("learner_id", "matriculation_number"),
        "course": ("course_name", "course_title"), "course_code": ("code", "course_id"),
        "term": ("semester", "session"), "credits": ("credit_hours", "units"), "delivery": ("mode", "format"),
        "start_date": ("starts_on", "begins"), "tuition": ("fee", "tuition_fee"),
        "scholarship": ("has_scholarship", "funded"), "advisor": ("academic_advisor", "tutor"),
        "enrollment": ("registration", "course_enrollment"), "learner": ("student_info", "pupil"),
        "class": ("course_info", "module"), "invoice": ("tuition_invoice", "bill"),
    },
)

PROPERTY_LISTINGS = Domain(
    name="property_listings",
    fields={
        "address": F(Pick(ADDRESSES), "at {v}", label="Address"),
        "city": F(Pick(CITIES), "in {v}", label="City"),
        "property_type": F(Choice(("house", "flat", "studio", "townhouse", "bungalow", "loft")), "for a {v}",
                           "advertising a {v}", label="Property type"),
        "asking_price": F(Amount(90000, 900000, "GBP"), "asking {v}", "priced at {v}", label="Asking price"),
        "monthly_rent": F(Amount(600, 4000, "GBP"), "at {v} a month", "renting for {v} a month",
                          label="Monthly rent"),
        "bedrooms": F(Count(1, 6, ("bedroom", "bedrooms")), "with {v}", label="Bedrooms"),
        "area_m2": F(Measure(25, 400, "square metres", 1), "of {v}", "covering {v}", label="Area (m²)"),
        "furnished": F(Flag("fully furnished", "unfurnished"), label="Furnished"),
        "available_from": F(Day(), "available from {v}", label="Available from"),
        "agent": F(Person(), "listed by {v}", "with agent {v}", label="Agent"),
        "energy_rating": F(Choice(("A", "B", "C", "D", "E", "F", "G")), "with energy rating {v}",
                           label="Energy rating", unknown="with no energy rating yet"),
    },
    shapes=(
        Shape("property_listing", "address city property_type bedrooms asking_price area_m2?", root="listing"),
        Shape("rental_listing", "property_type monthly_rent furnished available_from bedrooms?"),
        Shape("create_listing", "address city property_type asking_price bedrooms? energy_rating?",
              task="function_call", description="Publishes a property listing for sale"),
        Shape("property_details", "location:address,city specs:bedrooms,area_m2,energy_rating! asking_price",
              root="property"),
        Shape("rental_listing_form", "agent address property_type monthly_rent furnished available_from",
              task="form"),
    ),
    intros=("New property listing", "Property listing", "New listing", "Listing update"),
    requests=("List a property", "Please publish a listing", "Create a listing", "Put a home on the market"),
    synonyms={
        "address": ("street_address", "street"), "city": ("town", "locality"),
        "property_type": ("type", "home_type"), "asking_price": ("price", "list_price"),
        "monthly_rent": ("rent", "rent_per_month"), "bedrooms": ("beds", "num_bedrooms"),
        "area_m2": ("floor_area_m2", "size_m2"), "furnished": ("is_furnished", "furniture_included"),
        "available_from": ("move_in_date", "available"), "agent": ("listing_agent", "agent_name"),
        "energy_rating": ("epc_rating", "energy_class"), "listing": ("property_listing", "advert"),
        "location": ("where", "place"), "specs": ("features", "details"), "property": ("home", "real_estate"),
    },
)

INSURANCE_CLAIMS = Domain(
    name="insurance_claims",
    fields={
        "policyholder": F(Person(), "filed by {v}", "from {v}", label="Policyholder"),
        "policy_number": F(Code(("POL-",), 7), "under policy {v}", label="Policy number",
                           unknown="with no policy number given"),
        "claim_type": F(Choice(("auto", "home", "travel", "health", "pet")), "under {v} cover",
                        "against the {v} policy", label="Claim type"),
        "incident_date": F(Day(), "for an incident on {v}", "after an incident on {v}", label="Incident date"),
        "damage": F(Pick(DAMAGES), "for {v}", "reporting {v}", label="Damage"),
        "claimed_amount": F(Amount(100, 25000), "claiming {v}", "for a total of {v}", label="Claimed amount"),
        "damaged_items": F(Items({"item": Pick(CLAIM_ITEMS), "value": Amount(50, 3000)}, "a {item} worth {value}"),
                           "listing {v}", "covering {v}", label="Damaged items"),
        "police_report": F(Flag("with a police report filed", "with no police report"), label="Police report"),
        "photos_attached": F(Count(1, 12, ("photo", "photos")), "with {v} attached", label="Photos attached"),
        "claim_id": F(Code(("CLM-",), 6), "logged as claim {v}", "with claim number {v}", label="Claim ID"),
        "adjuster": F(Person(), "handled by {v}", label="Adjuster", unknown="with no adjuster assigned yet"),
    },
    shapes=(
        Shape("insurance_claim", "claim_id policyholder claim_type damage claimed_amount incident_date?",
              root="claim"),
        Shape("file_claim", "policy_number! claim_type incident_date claimed_amount police_report?",
              task="function_call", description="Files an insurance claim against a policy"),
        Shape("claim_items", "policy_number! damaged_items photos_attached?"),
        Shape("claim_assessment", "claim_id incident:incident_date,damage,police_report? adjuster!",
              root="assessment"),
        Shape("insurance_claim_form",
              "policyholder policy_number! claim_type incident_date damage claimed_amount photos_attached",
              task="form"),
    ),
    intros=("Insurance claim", "New claim", "Claim notification", "Insurance claim report"),
    requests=("File a claim", "Please open an insurance claim", "Submit a claim", "I want to make a claim"),
    synonyms={
        "policyholder": ("insured", "customer", "claimant"), "policy_number": ("policy_id", "policy"),
        "claim_type": ("coverage", "line_of_business"), "incident_date": ("date_of_loss", "loss_date"),
        "damage": ("loss", "damage_type", "cause"), "claimed_amount": ("amount", "claim_amount"),
        "damaged_items": ("items", "losses"), "item": ("object", "description"), "value": ("worth", "amount"),
        "police_report": ("police_report_filed", "reported_to_police"), "photos_attached": ("photos", "photo_count"),
        "claim_id": ("claim_number", "reference"), "adjuster": ("assessor", "handler"),
        "claim": ("insurance_claim", "case"), "incident": ("loss_event", "event"),
        "assessment": ("review", "claim_review"),
    },
)

SHIPPING_QUOTES = Domain(
    name="shipping_quotes",
    fields={
        "origin": F(Pick(CITIES[:12]), "from {v}", label="Origin"),
        "destination": F(Pick(CITIES[12:]), "to {v}", label="Destination"),
        "weight_kg": F(Measure(0.5, 800, "kg", 0.5), "weighing {v}", label="Weight (kg)"),
        "parcels": F(Count(1, 20, ("parcel", "parcels")), "in {v}", "split into {v}", label="Parcels"),
        "service": F(Choice(("economy", "standard", "express", "overnight")), "by {v} service",
                     "with {v} shipping", label="Service"),
        "ship_date": F(Day(), "shipping on {v}", "ready to ship on {v}", label="Ship date"),
        "insured": F(Flag("with insurance", "without insurance"), label="Insured"),
        "length_cm": F(Measure(10, 200, "cm", 1), "measuring {v} in length", label="Length (cm)"),
        "width_cm": F(Measure(10, 150, "cm", 1), "with a width of {v}", label="Width (cm)"),
        "height_cm": F(Measure(5, 150, "cm", 1), "with a height of {v}", label="Height (cm)"),
        "declared_value": F(Amount(20, 5000), "with a declared value of {v}", label="Declared value",
                            unknown="with no declared value given"),
    },
    shapes=(
        Shape("shipping_quote", "origin destination weight_kg service parcels?", root="quote"),
        Shape("get_shipping_quote", "origin destination weight_kg service? insured?", task="function_call",
              description="Returns a price quote for shipping a package"),
        Shape("package_quote", "dimensions:length_cm,width_cm,height_cm weight_kg destination"),
        Shape("freight_request", "route:origin,destination ship_date parcels declared_value! insured",
              root="request"),
        Shape("shipping_quote_form", "origin destination ship_date weight_kg parcels declared_value! service",
              task="form"),
    ),
    intros=("Shipping quote request", "Quote request for a shipment", "Freight quote", "Shipment to price"),
    requests=("Get me a shipping quote", "Quote a shipment", "Please price a delivery", "I need a shipping quote"),
    synonyms={
        "origin": ("from", "ship_from", "pickup_city"), "destination": ("to", "ship_to", "delivery_city"),
        "weight_kg": ("weight", "mass_kg"), "parcels": ("packages", "pieces"), "service": ("service_level", "speed"),
        "ship_date": ("pickup_date", "dispatch_date"), "insured": ("insurance", "with_insurance"),
        "length_cm": ("length", "l_cm"), "width_cm": ("width", "w_cm"), "height_cm": ("height", "h_cm"),
        "declared_value": ("value", "customs_value"), "quote": ("shipping_quote", "estimate"),
        "dimensions": ("size", "dims"), "route": ("lane", "journey"), "request": ("freight_request", "shipment"),
    },
)

TIMESHEETS = Domain(
    name="timesheets",
    fields={
        "employee": F(Person(), "for {v}", "from {v}", label="Employee"),
        "employee_id": F(Code(("EMP-",), 5), "with employee ID {v}", label="Employee ID"),
        "week_start": F(Day(), "for the week starting {v}", label="Week starting"),
        "hours_worked": F(Measure(4, 60, "hours", 0.25), "totalling {v}", "logging {v}", label="Hours worked"),
        "overtime_hours": F(Measure(1.5, 12, "hours", 0.5), "with {v} of overtime", label="Overtime (hours)"),
        "project": F(Pick(PROJECTS), "on the {v} project", label="Project"),
        "entries": F(Items({"day": Choice(tuple(WEEKDAYS), WEEKDAYS), "task": Pick(TIMESHEET_TASKS),
                            "hours": Measure(1.5, 10, "hours", 0.5)}, "{hours} of {task} on {day}"),
                     "with {v}", "recording {v}", label="Entries"),
        "approver": F(Person(), "approved by {v}", label="Approver", unknown="still waiting for an approver"),
        "billable": F(Flag("billable to the client", "not billable to the client"), label="Billable"),
        "status": F(Choice(("draft", "submitted", "approved", "rejected")), "marked {v}", "with status {v}",
                    label="Status"),
        "remote": F(Flag("worked remotely", "worked on site"), label="Remote"),
    },
    shapes=(
        Shape("timesheet", "employee week_start hours_worked project status?", root="timesheet"),
        Shape("log_hours", "employee_id project hours_worked billable? remote?", task="function_call",
              description="Logs hours worked on a project"),
        Shape("weekly_timesheet", "employee week_start entries overtime_hours?"),
        Shape("timesheet_approval",
              "worker:employee,employee_id period:week_start,hours_worked,overtime_hours? approver!",
              root="approval"),
        Shape("timesheet_form", "employee employee_id week_start project hours_worked billable approver!",
              task="form"),
    ),
    intros=("Timesheet", "Weekly timesheet", "Hours to log", "Time report"),
    requests=("Log my hours", "Please record hours", "Book time", "Enter hours"),
    synonyms={
        "employee": ("employee_name", "worker_name", "staff"), "employee_id": ("staff_id", "emp_id"),
        "week_start": ("week_of", "period_start"), "hours_worked": ("total_hours", "hours"),
        "overtime_hours": ("overtime", "extra_hours"), "project": ("project_name", "assignment"),
        "entries": ("days", "daily_hours", "lines"), "day": ("weekday",), "task": ("activity", "work"),
        "hours": ("hours_logged", "time"),
        "approver": ("approved_by", "manager"), "billable": ("is_billable", "chargeable"),
        "status": ("state", "timesheet_status"), "remote": ("worked_remotely", "is_remote"),
        "timesheet": ("time_report", "timecard"), "worker": ("employee_info", "staff_member"),
        "period": ("week", "pay_period"), "approval": ("timesheet_approval", "sign_off"),
    },
)

PURCHASE_ORDERS = Domain(
    name="purchase_orders",
    fields={
        "po_number": F(Code(("PO-",), 6), "numbered {v}", "under {v}", label="PO number"),
        "supplier": F(Pick(SUPPLIERS), "from {v}", "with supplier {v}", label="Supplier"),
        "buyer": F(Person(), "requested by {v}", "raised by {v}", label="Requested by"),
        # unit_price starts at 2: an item holding the number 1 is written singular ("1 pen").
        "lines": F(Items({"item": Noun(ORDER_ITEMS), "quantity": Count(1, 50), "unit_price": Amount(2, 80)},
                         "{quantity} {item} at {unit_price} each"), "for {v}", "ordering {v}", label="Lines"),
        "delivery_date": F(Day(), "for delivery by {v}", "due {v}", label="Delivery date"),
        "ship_to": F(Pick(CITIES), "shipped to the {v} office", "for the {v} office", label="Ship to"),
        "payment_terms": F(Choice(("net_15", "net_30", "net_60", "prepaid")), "on {v} terms", label="Payment terms"),
        "total": F(Amount(100, 20000), "totalling {v}", "worth {v}", label="Total"),
        "urgent": F(Flag("marked urgent", "not urgent"), label="Urgent"),
        "cost_center": F(Code(("CC-",), 4), "charged to cost centre {v}", label="Cost centre",
                         unknown="with no cost centre given"),
        "approved": F(Flag("already approved", "still awaiting approval"), label="Approved"),
    },
    shapes=(
        Shape("purchase_order", "po_number supplier lines delivery_date?", root="purchase_order"),
        Shape("create_purchase_order", "supplier lines ship_to? delivery_date? urgent?", task="function_call",
              description="Creates a purchase order with a supplier"),
        Shape("po_summary", "po_number buyer total payment_terms approved"),
        Shape("po_approval", "po_number requester:buyer,cost_center! total urgent?", root="approval"),
        Shape("purchase_request_form", "buyer supplier cost_center! total delivery_date ship_to", task="form"),
    ),
    intros=("Purchase order", "New purchase order", "PO request", "Order with a supplier"),
    requests=("Raise a purchase order", "Please raise a PO", "Create a PO", "Place a purchase order"),
    synonyms={
        "po_number": ("order_number", "po_id"), "supplier": ("vendor", "seller"),
        "buyer": ("requested_by", "purchaser"), "lines": ("items", "line_items", "order_lines"),
        "item": ("product", "article"), "quantity": ("qty", "units"), "unit_price": ("price", "price_each"),
        "delivery_date": ("deliver_by", "due_date"), "ship_to": ("deliver_to", "site"),
        "payment_terms": ("terms",), "total": ("total_amount", "order_total"), "urgent": ("rush", "is_urgent"),
        "cost_center": ("cost_centre", "budget_code"), "approved": ("is_approved", "signed_off"),
        "purchase_order": ("po", "order"), "requester": ("buyer_details", "ordered_by"),
        "approval": ("po_approval", "sign_off"),
    },
)

VEHICLE_SERVICE = Domain(
    name="vehicle_service",
    fields={
        "license_plate": F(Code(("KT", "LX", "MN", "RV", "BD"), 4), "with plate {v}", "for plate {v}",
                           label="License plate"),
        "vehicle": F(Pick(VEHICLES), "for a {v}", "on the {v}", label="Vehicle"),
        "owner": F(Person(), "booked by {v}", "for owner {v}", label="Owner"),
        "mileage_km": F(Measure(5000, 250000, "km", 1), "at {v}", "with {v} on the clock", label="Mileage (km)"),
        "service_type": F(Choice(("oil_change", "annual_service", "brake_repair", "tyre_change", "inspection")),
                          "to get the {v} done", "for the {v}", label="Service type"),
        "service_date": F(Day(), "on {v}", "scheduled for {v}", label="Service date"),
        "drop_off": F(Clock(7, 12), "dropping off at {v}", "with drop-off at {v}", label="Drop-off time"),
        "courtesy_car": F(Flag("with a courtesy car", "without a courtesy car"), label="Courtesy car"),
        "parts": F(Items({"part": Noun(PARTS), "quantity": Count(1, 4)}, "{quantity} {part}"), "replacing {v}",
                   label="Parts"),
        "estimate": F(Amount(60, 2500), "with an estimate of {v}", "quoted at {v}", label="Estimate",
                      unknown="with no estimate yet"),
        "workshop": F(Pick(GARAGES), "at {v}", label="Workshop"),
    },
    shapes=(
        Shape("vehicle_service_booking", "license_plate vehicle service_type service_date drop_off?", root="booking"),
        Shape("book_service", "license_plate service_type service_date drop_off? courtesy_car?",
              task="function_call", description="Books a vehicle in for a service at the workshop"),
        Shape("repair_order", "car:license_plate,vehicle,mileage_km parts estimate!", root="repair_order"),
        Shape("service_summary", "workshop service_type mileage_km estimate! courtesy_car"),
        Shape("service_intake_form", "owner license_plate vehicle mileage_km service_type service_date courtesy_car",
              task="form"),
    ),
    intros=("Service booking", "Vehicle service", "Garage appointment", "Car service request"),
    requests=("Book my car in", "Please book a service", "Schedule a car service", "Get my car booked in"),
    synonyms={
        "license_plate": ("plate", "registration", "reg_number"), "vehicle": ("car_model", "make_model", "model"),
        "owner": ("customer", "owner_name"), "mileage_km": ("odometer_km", "km"),
        "service_type": ("job", "work_type", "service"), "service_date": ("date", "appointment_date"),
        "drop_off": ("drop_off_time", "arrival_time"), "courtesy_car": ("loan_car", "needs_courtesy_car"),
        "parts": ("parts_needed", "components"), "part": ("part_name", "component"), "quantity": ("qty", "count"),
        "estimate": ("quote", "estimated_cost"), "workshop": ("garage", "service_centre"),
        "booking": ("service_booking", "appointment"), "car": ("vehicle_details", "auto"),
        "repair_order": ("work_order", "job_card"),
    },
)

CONFERENCE_REGISTRATIONS = Domain(
    name="conference_registrations",
    fields={
        "attendee": F(Person(), "for {v}", "registering {v}", label="Attendee"),
        "email": F(Email(), "with email {v}", "contactable at {v}", label="Email"),
        "company": F(Pick(COMPANIES), "from {v}", "representing {v}", label="Company"),
        "conference": F(Pick(CONFERENCES), "to attend {v}", "at {v}", label="Conference"),
        "ticket_type": F(Choice(("standard", "vip", "student", "speaker", "virtual"), {"vip": "VIP"}),
                         "with a {v} ticket", "on a {v} pass", label="Ticket type"),
        "days": F(Count(1, 3, ("day", "days")), "for {v}", "covering {v}", label="Days"),
        "workshops": F(Several(WORKSHOPS), "signed up for {v}", "joining the workshops {v}", label="Workshops"),
        "meal_preference": F(Choice(("vegetarian", "vegan", "gluten_free", "halal", "kosher"),
                                    {"gluten_free": "gluten-free"}), "needing {v} meals", "with {v} meals",
                             label="Meal preference", unknown="with no meal preference stated"),
        "needs_hotel": F(Flag("needing a hotel room", "not needing a hotel"), label="Hotel needed"),
        "fee": F(Amount(49, 1500, "EUR"), "paying {v}", "for a fee of {v}", label="Fee"),
        "registration_code": F(Code(("REG-",), 5), "under registration {v}", "with confirmation code {v}",
                               label="Registration code"),
    },
    shapes=(
        Shape("conference_registration", "attendee conference ticket_type days? company?", root="registration"),
        Shape("register_attendee", "attendee email conference ticket_type workshops? meal_preference?",
              task="function_call", description="Registers an attendee for a conference"),
        Shape("attendee_profile",
              "participant:attendee,email,company? preferences:meal_preference!,needs_hotel workshops?"),
        Shape("registration_payment", "registration_code ticket_type fee days", root="payment"),
        Shape("conference_registration_form",
              "attendee email company conference ticket_type meal_preference! needs_hotel", task="form"),
    ),
    intros=("Conference registration", "New registration", "Conference sign-up", "Attendee registration"),
    requests=("Register an attendee", "Please book a conference pass", "Sign up an attendee",
              "Book a conference ticket"),
    synonyms={
        "attendee": ("attendee_name", "delegate", "name"), "email": ("email_address", "contact_email"),
        "company": ("organisation", "employer"), "conference": ("event", "conference_name"),
        "ticket_type": ("pass_type", "ticket"), "days": ("num_days", "days_attending"),
        "workshops": ("sessions", "breakouts"), "meal_preference": ("diet", "dietary_requirement"),
        "needs_hotel": ("hotel", "accommodation_needed"), "fee": ("price", "amount_paid"),
        "registration_code": ("confirmation_code", "reg_code"),
        "registration": ("conference_registration", "signup"), "participant": ("delegate_info", "person"),
        "preferences": ("needs", "extras"), "payment": ("registration_payment", "billing"),
    },
)

DOMAINS: tuple[Domain, ...] = (
    EXPENSES, BANK_TRANSFERS, MEETINGS, SUPPORT_TICKETS, BUG_REPORTS, PRESCRIPTIONS, LAB_RESULTS, COURSE_ENROLLMENTS,
    PROPERTY_LISTINGS, INSURANCE_CLAIMS, SHIPPING_QUOTES, TIMESHEETS, PURCHASE_ORDERS, VEHICLE_SERVICE,
    CONFERENCE_REGISTRATIONS,
)
