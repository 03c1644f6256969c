"""The fictional company's FAQ content: products, question intents, paraphrase templates.

Templates: "{a|b|c}" picks one alternative, "{p}" a way customers name the product, any other
"{key}" the product's attribute. "train" templates make training questions; "eval" templates
are held out and only used for the evaluation set.
"""

PRODUCTS = [
    dict(
        key="hub", name="Lumora Hub", mentions=["hub", "Lumora Hub", "home hub", "base station"],
        battery=None, camera=False, via_hub=False, outdoor=False, motion=False,
        btn="Link", reset_s=10, c_ok="solid white", c_setup="blue",
        wifi="2.4 GHz and 5 GHz", fw_min=5, warranty=2,
        assistants="Amazon Alexa, Google Assistant and Apple Home",
        power="the included 12 V power adapter",
        power_note="It has a backup battery that keeps it running for 4 hours in a power cut.",
        install="Place the Lumora Hub in a central spot of your home, away from metal cabinets "
        "and microwaves, and connect it to power. You can also wire it to your router with the "
        "included Ethernet cable.",
        share_scope="and every device connected to it",
    ),
    dict(
        key="cam_in", name="Lumora Cam Indoor",
        mentions=["indoor cam", "indoor camera", "Cam Indoor", "Lumora indoor camera"],
        battery=None, camera=True, via_hub=False, outdoor=False, motion=True,
        btn="Setup", reset_s=15, c_ok="solid green", c_setup="yellow",
        wifi="2.4 GHz", fw_min=4, warranty=1,
        assistants="Amazon Alexa and Google Assistant",
        power="a USB-C cable and the included 5 V adapter",
        power_note="A 3 meter cable is in the box; any 5 V 2 A USB-C adapter also works.",
        install="Put the Lumora Cam Indoor on a shelf or screw its magnetic base to a wall, at "
        "least 30 centimeters from windows so the glass does not reflect the night vision.",
        share_scope="and watch its live view", nv=8, free_days=7, plus_days=60, max_sens=10,
    ),
    dict(
        key="cam_out", name="Lumora Cam Outdoor",
        mentions=["outdoor cam", "outdoor camera", "Cam Outdoor", "security camera"],
        battery=dict(kind="a rechargeable 6700 mAh battery pack", months=4, charge_h=6),
        camera=True, via_hub=False, outdoor=True, motion=True,
        btn="Sync", reset_s=20, c_ok="solid blue", c_setup="purple",
        wifi="2.4 GHz", fw_min=8, warranty=2,
        assistants="Amazon Alexa and Google Assistant",
        install="Screw the mount to a wall 2 to 3 meters above the ground with the two included "
        "screws, click the Lumora Cam Outdoor into the mount and aim it with the live view in "
        "the app.",
        share_scope="and watch its live view", nv=15, free_days=7, plus_days=60, max_sens=10,
        ip="IP65", tmin=-20, tmax=45,
    ),
    dict(
        key="doorbell", name="Lumora Doorbell",
        mentions=["doorbell", "video doorbell", "door bell", "Lumora Doorbell"],
        battery=dict(kind="a built-in rechargeable battery", months=3, charge_h=5),
        camera=True, via_hub=False, outdoor=True, motion=True,
        btn="Orange", reset_s=12, c_ok="white ring", c_setup="spinning blue",
        wifi="2.4 GHz", fw_min=6, warranty=2,
        assistants="Amazon Alexa and Google Assistant",
        install="Screw the wedge plate next to your door at 1.2 meters height, connect the two "
        "existing doorbell wires if you have them, and click the Lumora Doorbell onto the plate.",
        share_scope="and answer its rings", nv=5, free_days=7, plus_days=60, max_sens=5,
        ip="IP54", tmin=-15, tmax=50,
    ),
    dict(
        key="lock", name="Lumora Smart Lock",
        mentions=["smart lock", "door lock", "lock", "Lumora Lock"],
        battery=dict(kind="four AA batteries", months=9), camera=False, via_hub=True,
        outdoor=False, motion=False, btn="Pair", reset_s=8, c_ok="short green flash",
        c_setup="blinking orange", fw_min=10, warranty=3,
        assistants="Amazon Alexa, Google Assistant and Apple Home",
        install="The Lumora Smart Lock fits over your existing deadbolt on the inside of the "
        "door. Remove the old thumb turn with a screwdriver, attach the adapter plate and slide "
        "the lock on. Your keys keep working from outside.",
        share_scope="with their own access code",
    ),
    dict(
        key="thermostat", name="Lumora Thermostat",
        mentions=["thermostat", "Lumora Thermostat", "heating controller", "smart thermostat"],
        battery=None, camera=False, via_hub=False, outdoor=False, motion=False,
        btn="Menu", reset_s=30, c_ok="steady white screen", c_setup="blinking screen",
        wifi="2.4 GHz", fw_min=7, warranty=3,
        assistants="Amazon Alexa, Google Assistant and Apple Home",
        power="the 24 V C-wire of your heating system or the included power adapter",
        power_note="Without a C-wire, use the included adapter kit that fits inside the wall box.",
        install="Turn off the power to your heating system, take a photo of the old wiring, "
        "connect the wires to the matching Lumora Thermostat terminals and snap the display on. "
        "The app checks the wiring for you.",
        share_scope="and change the temperature",
    ),
    dict(
        key="bulb", name="Lumora Bulb",
        mentions=["bulb", "smart bulb", "light bulb", "Lumora light"],
        battery=None, camera=False, via_hub=True, outdoor=False, motion=False,
        btn="light switch", reset_s=0, c_ok="steady warm white", c_setup="slow pulse",
        fw_min=3, warranty=2, assistants="Amazon Alexa, Google Assistant and Apple Home",
        power="a standard E27 or E26 lamp socket",
        power_note="It draws 9 watts at full brightness and must not be used with a dimmer switch.",
        install="Screw the Lumora Bulb into any E27 or E26 lamp socket, switch the lamp on and "
        "add the bulb in the Lumora app. Do not use it in fully enclosed outdoor fixtures.",
        share_scope="and change its color",
    ),
    dict(
        key="plug", name="Lumora Plug",
        mentions=["smart plug", "plug", "outlet plug", "Lumora Plug"],
        battery=None, camera=False, via_hub=False, outdoor=False, motion=False,
        btn="power", reset_s=6, c_ok="solid green", c_setup="fast blinking green",
        wifi="2.4 GHz", fw_min=2, warranty=2,
        assistants="Amazon Alexa, Google Assistant and Apple Home",
        power="a standard wall outlet",
        power_note="It can switch devices up to 15 amps, 3600 watts, and measures their energy use.",
        install="Plug the Lumora Plug into a wall outlet indoors, then plug your lamp or "
        "appliance into it. Do not chain it with power strips or extension cords.",
        share_scope="and switch it on and off",
    ),
    dict(
        key="sensor", name="Lumora Motion Sensor",
        mentions=["motion sensor", "sensor", "PIR sensor", "Lumora sensor"],
        battery=dict(kind="one CR123A battery", months=12), camera=False, via_hub=True,
        outdoor=False, motion=True, btn="Connect", reset_s=5, c_ok="single red blink",
        c_setup="blinking blue", fw_min=4, warranty=2, max_sens=3,
        assistants="Amazon Alexa and Google Assistant",
        install="Stick the Lumora Motion Sensor in a room corner 2 meters high with the "
        "adhesive pad, facing the door. Keep it away from heaters and direct sunlight.",
        share_scope="and get its alerts",
    ),
    dict(
        key="speaker", name="Lumora Speaker",
        mentions=["speaker", "smart speaker", "Lumora Speaker", "sound box"],
        battery=None, camera=False, via_hub=False, outdoor=False, motion=False,
        btn="Action", reset_s=25, c_ok="soft white glow", c_setup="orange pulse",
        wifi="2.4 GHz and 5 GHz", fw_min=9, warranty=1,
        assistants="Amazon Alexa and Google Assistant",
        power="the included 19 V round power adapter",
        power_note="It has no battery, so it needs to stay plugged in.",
        install="Put the Lumora Speaker on a stable surface at least 10 centimeters from the "
        "wall for the best bass, plug it in and add it in the Lumora app.",
        share_scope="and play music on it",
    ),
    dict(
        key="leak", name="Lumora Leak Sensor",
        mentions=["leak sensor", "water sensor", "flood sensor", "Lumora Leak Sensor"],
        battery=dict(kind="two AAA batteries", months=18), camera=False, via_hub=True,
        outdoor=False, motion=False, btn="Test", reset_s=10, c_ok="green blink",
        c_setup="blinking yellow", fw_min=3, warranty=2,
        assistants="Amazon Alexa and Google Assistant",
        install="Place the Lumora Leak Sensor flat on the floor next to your water heater, "
        "washing machine or under the sink, with the metal contacts facing down.",
        share_scope="and get its leak alarms",
    ),
]

# Device intents. "when" filters products.
DEVICE_INTENTS = [
    dict(
        key="reset", category="setup", title="Factory reset the {P}",
        q="How do I factory reset my {P}?",
        a=lambda p: (
            "Turn the lamp switch off and on five times, one second apart, until the {P} "
            "blinks three times. It is then back to factory settings and must be added again "
            "in the Lumora app."
            if p["key"] == "bulb" else
            "Hold the {btn} button on the {P} for {reset_s} seconds until the light shows "
            "{c_setup}. The {P} restarts with factory settings and must be set up again in the "
            "Lumora app."),
        train=["how do i {reset|factory reset|wipe|restore} my {p}",
               "{reset|factory reset|hard reset} {p}",
               "what's the way to {reset|restore} the {p} to factory settings",
               "my {p} needs a {reset|hard reset}, how",
               "can you tell me how to {reset|wipe} a {p}",
               "{p} factory {reset|defaults}"],
        eval=["steps to return the {p} to its original state?",
              "I want to erase all settings on my {p}"],
    ),
    dict(
        key="setup", category="setup", title="Set up the {P}",
        q="How do I set up my {P}?",
        a=lambda p: (
            "Open the Lumora app, tap Add device, choose {P} and press the {btn} button. The "
            "{P} connects through the Lumora Hub, so set up the hub first."
            if p["via_hub"] else
            "Open the Lumora app, tap Add device, choose {P} and scan the QR code on the back. "
            "Keep your phone within 3 meters of the {P} during setup."),
        train=["how do i {set up|install|connect} my {p}",
               "{setup|set up|pair} {p} with the app",
               "how to {add|pair} a {p} to my account",
               "getting started with the {p}",
               "i just got a {p}, how do i {set it up|connect it}",
               "{p} {setup|pairing} {steps|instructions}"],
        eval=["what are the first steps after unboxing the {p}?",
              "how can I link my new {p} to the Lumora app"],
    ),
    dict(
        key="wifi", category="connectivity", title="Change the Wi-Fi network of the {P}",
        q="How do I move my {P} to a new Wi-Fi network?",
        when=lambda p: not p["via_hub"],
        a=lambda p: (
            "In the Lumora app open the {P}, go to Settings > Network and tap Change Wi-Fi, then "
            "follow the steps. The {P} works with {wifi} Wi-Fi networks."),
        train=["how do i change the {wifi|wi-fi|wireless} network on my {p}",
               "{new|different} router, how do i reconnect the {p}",
               "{p} {wifi|wi-fi} password changed, what now",
               "connect {p} to another {wifi|network}",
               "does the {p} work with 5 ghz {wifi|wi-fi}",
               "{p} {wifi|network} settings"],
        eval=["I replaced my internet box, how do I get the {p} back online?",
              "switching the {p} to my new wireless network"],
    ),
    dict(
        key="firmware", category="setup", title="Update the {P} firmware",
        q="How do I update the firmware of my {P}?",
        a=lambda p: (
            "Firmware updates for the {P} install automatically at night. To update now, open "
            "the {P} in the Lumora app and tap Settings > Firmware > Update. An update takes "
            "about {fw_min} minutes."),
        train=["how do i update the firmware on my {p}",
               "{p} {firmware|software} update",
               "is there a new {firmware|software} version for the {p}",
               "how to {upgrade|update} {p} {software|firmware}",
               "my {p} says an update is available",
               "{p} update {stuck|taking long}"],
        eval=["how do I make sure my {p} runs the latest version?",
              "manually installing new {p} software"],
    ),
    dict(
        key="light", category="troubleshooting", title="Status light of the {P}",
        q="What does the light on my {P} mean?",
        a=lambda p: (
            "A {c_ok} light means the {P} is connected and working. A {c_setup} light means it "
            "is in setup mode, and a red light means it has lost its connection."),
        train=["what does the {blinking|flashing} light on my {p} mean",
               "{p} light is {blinking|flashing}",
               "{p} {led|status light} colors",
               "why is my {p} light red",
               "meaning of the {led|light} on the {p}",
               "{p} shows {c_setup}"],
        eval=["the little lamp on my {p} keeps changing color, what is it telling me?",
              "{p} indicator explained"],
    ),
    dict(
        key="offline", category="troubleshooting", title="The {P} shows offline",
        q="Why does my {P} show offline?",
        a=lambda p: (
            "If the {P} shows Offline, first check that "
            + ("the Lumora Hub is online and within 15 meters" if p["via_hub"]
               else "your Wi-Fi works and the {P} is within range of the router")
            + (", and that its batteries are not empty" if p["battery"] else
               ", and that it has power")
            + ". Then restart the {P}. If it stays offline, reset it and add it again."),
        train=["my {p} {is offline|shows offline|went offline}",
               "{p} not connecting",
               "why does the app say my {p} is {offline|unavailable}",
               "{p} keeps disconnecting",
               "{p} lost {connection|its connection}",
               "{p} {offline|disconnected} {again|all the time}"],
        eval=["the app can't reach my {p} anymore",
              "{p} unreachable in app, help"],
    ),
    dict(
        key="battery_life", category="power", title="Battery life of the {P}",
        q="How long does the battery of the {P} last?",
        when=lambda p: p["battery"] is not None,
        a=lambda p: (
            "The {P} runs on " + p["battery"]["kind"] + ", which last"
            + ("s" if p["battery"].get("charge_h") else "") + " about "
            + str(p["battery"]["months"]) + " months with normal use. The app warns you when "
            "the battery drops below 20 percent."),
        train=["how long does the {battery|batteries} last in the {p}",
               "{p} battery life",
               "how often do i need to {change|replace|charge} the {p} battery",
               "what {battery|batteries} does the {p} use",
               "{p} battery drains {fast|quickly}",
               "{p} battery {duration|lifetime}"],
        eval=["how many months before the {p} power runs out?",
              "what kind of cells go in the {p}?"],
    ),
    dict(
        key="battery_swap", category="power", title="Charge or replace the {P} battery",
        q="How do I charge or replace the battery of the {P}?",
        when=lambda p: p["battery"] is not None,
        a=lambda p: (
            "Remove the {P} from its mount, connect the USB-C cable to its charging port and "
            "charge it for about " + str(p["battery"]["charge_h"]) + " hours until the light "
            "turns green."
            if p["battery"].get("charge_h") else
            "Slide open the cover of the {P}, replace " + p["battery"]["kind"] + " and close "
            "the cover. Your settings are kept."),
        train=["how do i {change|replace|swap} the {battery|batteries} in my {p}",
               "how to charge the {p}",
               "{p} battery {low|empty}, what do i do",
               "{replacing|changing} {p} {battery|batteries}",
               "where is the battery on the {p}",
               "{p} low battery warning"],
        eval=["the {p} says power is low, how do I fix that?",
              "putting fresh power in the {p}"],
    ),
    dict(
        key="warranty", category="warranty", title="Warranty for the {P}",
        q="What warranty does the {P} have?",
        a=lambda p: (
            "The {P} has a {warranty}-year limited warranty from the date of purchase. To make "
            "a claim, open Support in the Lumora app and choose Warranty claim with your order "
            "number."),
        train=["what is the warranty on the {p}",
               "how long is the {p} {warranty|guarantee}",
               "is my {p} {still under warranty|covered}",
               "{p} warranty claim",
               "{p} broke, is it covered by {warranty|the guarantee}",
               "{p} {warranty|guarantee} {period|length}"],
        eval=["for how many years is the {p} protected against defects?",
              "can I get my faulty {p} repaired for free?"],
    ),
    dict(
        key="voice", category="compatibility", title="Voice assistants and the {P}",
        q="Does the {P} work with voice assistants?",
        a=lambda p: (
            "The {P} works with {assistants}. Link your Lumora account in the assistant's app "
            "under Skills or Services, then say the name you gave the {P}."),
        train=["does the {p} work with {alexa|google home|google assistant|apple home|siri}",
               "{p} {alexa|google} compatibility",
               "can i control the {p} with my voice",
               "connect {p} to {alexa|google home|homekit}",
               "{p} {smart assistant|voice assistant} support",
               "{alexa|google} can't find my {p}"],
        eval=["is the {p} compatible with my Echo?",
              "voice control options for the {p}"],
    ),
    dict(
        key="install", category="installation", title="Install the {P}",
        q="How do I install the {P}?",
        a=lambda p: p["install"],
        train=["how do i {mount|install} the {p}",
               "{p} {installation|mounting} instructions",
               "where should i {put|place} my {p}",
               "do i need tools to install the {p}",
               "{mounting|installing} {p}",
               "best place for {a|my} {p}"],
        eval=["what's involved in fitting the {p}?",
              "best spot and method to put up the {p}"],
    ),
    dict(
        key="night", category="video", title="Night vision on the {P}",
        q="Does the {P} have night vision?",
        when=lambda p: p["camera"],
        a=lambda p: (
            "The {P} sees up to {nv} meters in the dark with infrared night vision. It switches "
            "on automatically; you can turn it off in Settings > Video."),
        train=["does the {p} have night vision",
               "{p} {night|dark} mode",
               "how far can the {p} see at night",
               "{p} {infrared|ir} settings",
               "turn off night vision on {p}",
               "{p} video at night is {dark|black}"],
        eval=["can the {p} record when it is pitch black outside?",
              "{p} low light performance"],
    ),
    dict(
        key="clips", category="video", title="Video recordings from the {P}",
        q="How long are recordings from the {P} kept?",
        when=lambda p: p["camera"],
        a=lambda p: (
            "Without a plan, the {P} keeps event clips in the cloud for {free_days} days. With "
            "Lumora Plus, clips are kept for {plus_days} days and you can download them from the "
            "History tab."),
        train=["how long are {p} {videos|clips|recordings} saved",
               "where are my {p} {recordings|videos}",
               "how do i download {clips|videos} from my {p}",
               "{p} video history",
               "does the {p} record all the time",
               "{p} {clip|recording} storage"],
        eval=["can I keep the {p} footage from last week?",
              "{p} storage of past events"],
    ),
    dict(
        key="motion", category="alerts", title="Motion alerts from the {P}",
        q="How do I adjust motion alerts from the {P}?",
        when=lambda p: p["motion"],
        a=lambda p: (
            "Open the {P} in the Lumora app, go to Settings > Motion and set the sensitivity "
            "from 1 to {max_sens}. Lower values send fewer alerts; schedules can mute alerts "
            "while you are at home."),
        train=["how do i change motion {sensitivity|detection} on my {p}",
               "too many {alerts|notifications} from my {p}",
               "{p} motion alerts",
               "{p} not detecting motion",
               "stop {p} {alerts|notifications} {for cars|at night}",
               "{p} motion {settings|sensitivity}"],
        eval=["my phone buzzes every time a leaf moves in front of the {p}",
              "tuning how easily the {p} triggers"],
    ),
    dict(
        key="share", category="account", title="Share the {P} with family",
        q="How do I share my {P} with other people?",
        a=lambda p: (
            "In the Lumora app open Settings > Home members and tap Invite. Invited members can "
            "use the {P} {share_scope}, but only the owner can remove it."),
        train=["how do i share my {p} with {family|my partner|my roommate}",
               "give {access|permission} to my {p} to {someone else|another person}",
               "can {multiple|two} people use the {p}",
               "add a user to the {p}",
               "{p} family sharing",
               "{p} {guest|shared} access"],
        eval=["my wife wants to control the {p} too",
              "letting another household member use the {p}"],
    ),
    dict(
        key="remove", category="account", title="Remove the {P} from your account",
        q="How do I remove my {P} from my account?",
        a=lambda p: (
            "Open the {P} in the Lumora app, tap Settings and scroll down to Remove device. "
            "After removing it, reset the {P} before you give it to someone else."),
        train=["how do i remove my {p} from {my account|the app}",
               "delete {p} from {app|account}",
               "{unlink|unregister} my {p}",
               "i sold my {p}, how do i remove it",
               "transfer {p} to a new owner",
               "{p} remove device"],
        eval=["getting rid of the {p} from my Lumora profile",
              "the {p} should no longer appear in my app"],
    ),
    dict(
        key="weather", category="hardware", title="Weather resistance of the {P}",
        q="Is the {P} weatherproof?",
        when=lambda p: p["outdoor"],
        a=lambda p: (
            "The {P} is rated {ip} and works from {tmin} to {tmax} degrees Celsius. Rain and "
            "snow are fine, but do not point a pressure washer at it."),
        train=["is the {p} waterproof",
               "can the {p} {handle|survive} rain",
               "{p} {operating temperature|cold weather}",
               "does the {p} work in {snow|winter|the heat}",
               "{p} weather rating",
               "{p} ip rating"],
        eval=["will a storm damage my {p}?",
              "how hot or cold can it get for the {p}"],
    ),
    dict(
        key="power", category="power", title="Power supply of the {P}",
        q="What power does the {P} need?",
        when=lambda p: p["battery"] is None,
        a=lambda p: "The {P} is powered by {power}. {power_note}",
        train=["what power does the {p} need",
               "{p} power {adapter|supply}",
               "can i use my own {charger|cable|adapter} with the {p}",
               "how much electricity does the {p} use",
               "{p} {power cable|plug type}",
               "{p} power requirements"],
        eval=["what do I plug the {p} into?",
              "{p} energy needs"],
    ),
    dict(
        key="rename", category="app", title="Rename the {P}",
        q="How do I rename my {P}?",
        a=lambda p: (
            "Open the {P} in the Lumora app, tap the pencil icon next to its name, type the new "
            "name and tap Save. Voice assistants use the new name after a few minutes."),
        train=["how do i rename my {p}",
               "change the name of {my|the} {p}",
               "{p} {name|label} in the app",
               "can i call my {p} something else",
               "edit {p} name",
               "rename {p}"],
        eval=["the {p} has a boring title in the app, can I change it?",
              "giving my {p} a different label"],
    ),
]

# Product-specific entries: (product key, category, title, question, answer, train, eval).
EXTRA = [
    ("hub", "hardware", "How many devices the Lumora Hub supports",
     "How many devices can I connect to one Lumora Hub?",
     "One Lumora Hub supports up to 64 devices. For more, add a second hub in the same home; "
     "the app balances devices between them.",
     ["how many devices can the hub {handle|support}", "{max|maximum} devices on {a|one} hub",
      "hub device limit", "can i add more than 64 devices to the hub",
      "do i need {a second|another} hub"],
     ["is there a cap on gadgets per base station?"]),
    ("hub", "connectivity", "Range of the Lumora Hub",
     "What is the range of the Lumora Hub?",
     "The Lumora Hub reaches devices up to 15 meters away through walls, or 40 meters in open "
     "space. Plugs and bulbs also repeat the signal to devices further away.",
     ["hub range", "how far can devices be from the hub", "hub signal {distance|range}",
      "devices {too far|far away} from the hub", "extend hub range"],
     ["my garage sensor is far from the base station, will it reach?"]),
    ("lock", "security", "Access codes for the Lumora Smart Lock",
     "How do I create access codes for the Lumora Smart Lock?",
     "Open the Lumora Smart Lock in the app and tap Access codes > Add code. Codes have 4 to 8 "
     "digits and can be limited to certain days and hours, for example for a cleaner.",
     ["how do i {create|add|make} {an access|a pin|a} code for the lock",
      "lock {pin|access} codes", "temporary code for {my|the} smart lock",
      "give the cleaner a code for the door lock", "smart lock guest codes"],
     ["can a babysitter get her own number to open the Lumora Lock?"]),
    ("lock", "security", "Auto-lock on the Lumora Smart Lock",
     "How does auto-lock work on the Lumora Smart Lock?",
     "With Auto-lock on, the Lumora Smart Lock locks itself 30 seconds after the door closes. "
     "Change the delay from 10 seconds to 5 minutes in Settings > Auto-lock.",
     ["{how do i turn on|enable} auto lock", "smart lock auto-lock {delay|settings}",
      "lock itself automatically", "door lock locks too {fast|quickly}",
      "auto lock not working"],
     ["can the Lumora Lock close by itself after I leave?"]),
    ("lock", "troubleshooting", "The Lumora Smart Lock is jammed",
     "What do I do if the Lumora Smart Lock is jammed?",
     "A jam alert means the bolt could not move freely. Check that the door is fully closed and "
     "the bolt lines up with the strike plate, then run Calibrate in the lock's settings.",
     ["smart lock {jammed|stuck}", "door lock says jammed", "lock jam {alert|error}",
      "the bolt {does not|won't} turn", "lock {motor|bolt} stuck"],
     ["the Lumora Lock makes a grinding noise and stops halfway"]),
    ("thermostat", "heating", "Heating schedules on the Lumora Thermostat",
     "How do I set a heating schedule on the Lumora Thermostat?",
     "In the app open the Lumora Thermostat and tap Schedule. Add time blocks with a target "
     "temperature for each day, or choose the Home, Away and Sleep presets.",
     ["how do i {set|make|create} a {heating schedule|schedule} on the thermostat",
      "thermostat {schedule|program}", "thermostat {presets|timer}",
      "change {heating|temperature} schedule",
      "thermostat {weekday|weekend} schedule"],
     ["I want the house warm at 7 am on weekdays only"]),
    ("thermostat", "heating", "Compatible heating systems",
     "Which heating systems work with the Lumora Thermostat?",
     "The Lumora Thermostat works with 24 V gas and oil boilers, heat pumps and most central "
     "air systems. It does not work with 230 V electric baseboard heaters.",
     ["does the thermostat work with {my boiler|heat pumps|my heating}",
      "thermostat compatibility", "which {heating systems|boilers} {are supported|work}",
      "thermostat {heat pump|baseboard heater}", "is my heating compatible"],
     ["will the Lumora Thermostat run my electric radiators?"]),
    ("thermostat", "heating", "Eco mode on the Lumora Thermostat",
     "What is Eco mode on the Lumora Thermostat?",
     "Eco mode lowers the target temperature by 3 degrees when everyone is away, using the "
     "location of your phones. You can change the offset in Settings > Eco.",
     ["what is eco mode", "thermostat {eco|energy saving} mode", "save energy with the thermostat",
      "turn off eco mode", "thermostat away {mode|temperature}"],
     ["can the heater cool down automatically when nobody is home?"]),
    ("bulb", "lighting", "Colors and brightness of the Lumora Bulb",
     "How do I change the color of the Lumora Bulb?",
     "Open the Lumora Bulb in the app and tap the color wheel. You can pick 16 million colors "
     "or white from 2200 K to 6500 K, and set brightness from 1 to 100 percent.",
     ["how do i change the {color|colour} of the bulb", "bulb {brightness|dimming}",
      "smart bulb {colors|colours}", "make the light {warmer|cooler|dimmer}",
      "light bulb color temperature"],
     ["can my Lumora light glow purple for a party?"]),
    ("plug", "energy", "Energy monitoring with the Lumora Plug",
     "How do I see energy use with the Lumora Plug?",
     "Open the Lumora Plug in the app and tap Energy. It shows the current watts and the "
     "kilowatt hours used per day, week and month, and you can set a cost per kWh.",
     ["how much power does my {tv|fridge|heater} use", "plug energy {monitoring|report}",
      "smart plug {kwh|watts|energy usage}", "electricity cost from the plug",
      "energy history plug"],
     ["I'd like to know what my freezer costs me each month"]),
    ("plug", "energy", "Schedules on the Lumora Plug",
     "How do I schedule the Lumora Plug?",
     "Open the Lumora Plug in the app, tap Schedule and add on and off times for each day. "
     "Away mode switches it at random times to make your home look lived in.",
     ["how do i {schedule|set a timer on} the plug", "smart plug {timer|schedule}",
      "turn on the plug at {sunset|7pm}", "plug away mode",
      "switch {the lamp|my lamp} on automatically"],
     ["the living room lamp should come on every evening by itself"]),
    ("speaker", "audio", "Multi-room audio with Lumora Speakers",
     "How do I play music on several Lumora Speakers?",
     "In the app tap Speakers > Group, select the Lumora Speakers you want and give the group a "
     "name. Music then plays in sync in every room of the group.",
     ["how do i {group|link} speakers", "multi-room {audio|music}", "speaker {group|sync}",
      "play music in every room", "{two|several} speakers same song"],
     ["same song in the kitchen and bedroom at once?"]),
    ("speaker", "audio", "Bluetooth on the Lumora Speaker",
     "Can I use the Lumora Speaker over Bluetooth?",
     "Yes. Hold the Action button for 3 seconds until the light pulses blue, then pick Lumora "
     "Speaker in your phone's Bluetooth list. Bluetooth works without Wi-Fi.",
     ["does the speaker have bluetooth", "speaker bluetooth {pairing|connection}",
      "connect my phone to the speaker {directly|without wifi}",
      "speaker bluetooth {mode|setup}", "use speaker without internet"],
     ["can I stream from my laptop straight to the sound box?"]),
    ("doorbell", "alerts", "Indoor chime for the Lumora Doorbell",
     "Can the Lumora Doorbell ring my indoor chime?",
     "If your doorbell wires are connected, the Lumora Doorbell rings your existing mechanical "
     "chime. Otherwise, use the Lumora Speaker or the Lumora Hub as a chime.",
     ["does the doorbell ring {my chime|inside}", "doorbell {chime|ringer}",
      "can't hear the doorbell inside", "doorbell chime {settings|sound}",
      "indoor chime for {video doorbell|doorbell}"],
     ["nobody hears the video doorbell in the house"]),
    ("leak", "alerts", "Leak alarms from the Lumora Leak Sensor",
     "What happens when the Lumora Leak Sensor detects water?",
     "The Lumora Leak Sensor sounds an 85 dB alarm and sends a push notification and an email. "
     "With Lumora Plus you can also get a phone call.",
     ["what happens when the leak sensor {detects water|gets wet}",
      "water sensor {alarm|alert}", "leak sensor {notification|siren}",
      "how loud is the leak sensor", "flood sensor alerts"],
     ["will I know if the basement floods while I'm at work?"]),
]

# Entries without a product: (category, title, question, answer, train, eval).
GENERAL = [
    ("billing", "What Lumora Plus costs",
     "How much does Lumora Plus cost?",
     "Lumora Plus costs 4.99 dollars per month or 49 dollars per year for all devices in one "
     "home. The first 30 days are free.",
     ["how much is lumora plus", "{price|cost} of the {subscription|plus plan}",
      "lumora plus {monthly|yearly} price", "is there a free trial of lumora plus",
      "subscription {fee|pricing}"],
     ["what will the premium plan set me back each year?", "Lumora Plus pricing details"]),
    ("billing", "What Lumora Plus includes",
     "What do I get with Lumora Plus?",
     "Lumora Plus adds 60 days of video history, smart alerts for people and packages, "
     "emergency calls for leak and motion alarms, and a 10 percent discount in the Lumora "
     "store.",
     ["what {do i get|is included} with lumora plus", "lumora plus {features|benefits}",
      "is lumora plus worth it", "why {subscribe|upgrade} to plus",
      "what does the subscription include"],
     ["what are the perks of paying for the premium plan?", "plus membership advantages"]),
    ("billing", "Cancel Lumora Plus",
     "How do I cancel Lumora Plus?",
     "Open the Lumora app, go to Account > Subscription and tap Cancel plan. You keep Lumora "
     "Plus until the end of the paid period; recordings older than 7 days are then deleted.",
     ["how do i cancel {lumora plus|my subscription}", "{stop|end} my {subscription|plan}",
      "cancel plus", "unsubscribe from lumora plus", "turn off {auto renewal|renewal}"],
     ["I no longer want to pay monthly for the premium plan", "ending my Plus membership"]),
    ("billing", "Change payment method",
     "How do I change my payment method?",
     "Go to Account > Payment in the Lumora app or on lumorahome.com and tap Edit. We accept "
     "Visa, Mastercard, American Express and PayPal.",
     ["how do i {change|update} my {payment method|credit card|card}",
      "{new|different} card for {billing|my subscription}", "payment method",
      "do you accept paypal", "which {cards|payment methods} do you accept"],
     ["my card expired, where do I put the new one?", "billing details update"]),
    ("billing", "Download invoices",
     "Where can I download my invoices?",
     "Invoices are in Account > Orders and billing on lumorahome.com. Each order and "
     "subscription payment has a PDF invoice you can download.",
     ["where {can i find|are} my invoices", "download {an invoice|a receipt}",
      "{invoice|receipt} for my order", "i need a {vat|tax} invoice", "billing history"],
     ["my accountant wants a PDF of what I paid", "proof of purchase document"]),
    ("billing", "Unexpected charge",
     "Why was I charged by Lumora?",
     "Charges are usually the yearly or monthly Lumora Plus renewal. Check Account > Orders "
     "and billing; if you do not recognise a charge, contact support within 60 days.",
     ["why was i charged", "{unknown|unexpected|double} charge", "i was charged twice",
      "lumora charge on my {card|statement}", "charged after {cancelling|canceling}"],
     ["there's a Lumora payment on my bank statement I don't understand",
      "money taken from my account by Lumora"]),
    ("billing", "Student and multi-home discounts",
     "Do you offer discounts on Lumora Plus?",
     "Students get 50 percent off Lumora Plus with a valid student email. A second home on the "
     "same account costs half price.",
     ["do you have {a student discount|discounts}", "lumora plus {discount|coupon}",
      "cheaper plan for students", "second home discount", "promo code"],
     ["is there a reduced price for university people?"]),
    ("shipping", "Shipping times",
     "How long does shipping take?",
     "Orders ship within 1 business day. Standard delivery takes 3 to 5 business days and "
     "express delivery 1 to 2 business days.",
     ["how long does shipping take", "{delivery|shipping} time",
      "when will my order {arrive|ship}", "express {shipping|delivery}",
      "how fast do you deliver"],
     ["how many days until a package gets to me?", "expected arrival of purchases"]),
    ("shipping", "Shipping costs",
     "How much does shipping cost?",
     "Standard shipping is free on orders over 50 dollars and 5.99 dollars otherwise. Express "
     "shipping costs 14.99 dollars.",
     ["how much is shipping", "{shipping|delivery} {cost|fee|price}", "is shipping free",
      "free shipping {minimum|threshold}", "express shipping cost"],
     ["do I pay extra to get the box sent to me?", "postage charges"]),
    ("shipping", "International shipping",
     "Do you ship internationally?",
     "We ship to the United States, Canada, the United Kingdom and the European Union. Orders "
     "outside the US may pay import duties on delivery.",
     ["do you ship {internationally|abroad|overseas}", "shipping to {canada|europe|the uk}",
      "which countries do you ship to", "import {duties|taxes|customs}",
      "can i order from {germany|france|australia}"],
     ["is delivery possible outside America?", "customs fees for foreign orders"]),
    ("shipping", "Track an order",
     "How do I track my order?",
     "You get an email with a tracking link when your order ships. You can also see the status "
     "under Account > Orders, or ask me with your order number, for example LM-123456.",
     ["how do i track my order", "where is my {order|package|parcel}",
      "{tracking number|tracking link}", "order status", "has my order shipped"],
     ["I'd like to follow my delivery", "no update on my parcel yet"]),
    ("shipping", "Change the shipping address",
     "Can I change the shipping address of my order?",
     "You can change the address in Account > Orders until the order ships, usually within 1 "
     "business day. After that, contact the carrier with your tracking number.",
     ["{change|update} {shipping|delivery} address", "wrong address on my order",
      "ship to a different address", "i moved, {update|change} my order address",
      "edit {delivery|shipping} {details|address}"],
     ["I typed my old street on the order by mistake", "redirect my package to my office"]),
    ("shipping", "Damaged or missing package",
     "What if my package arrives damaged or does not arrive?",
     "Contact support within 14 days with photos of the damaged box or your order number. We "
     "send a free replacement once the carrier confirms the problem.",
     ["my package {arrived damaged|is damaged}", "package {never arrived|is missing|lost}",
      "{broken|damaged} box", "order marked delivered but not received",
      "items missing from my {order|box}"],
     ["the carton was crushed and the camera inside is cracked",
      "tracking says delivered but nothing at my door"]),
    ("returns", "Return policy",
     "What is your return policy?",
     "You can return any device within 30 days of delivery for a full refund, in its original "
     "packaging with all accessories. Lumora Plus subscriptions are not refundable.",
     ["what is your return policy", "can i return {a device|my order|it}",
      "return {window|period}", "how many days to return",
      "{refund|return} policy"],
     ["I changed my mind about my purchase, can I send it back?", "rules for sending items back"]),
    ("returns", "How to return a device",
     "How do I return a device?",
     "Go to Account > Orders, choose the order and tap Return. Print the free return label, "
     "pack the device in its box and drop it at any carrier location.",
     ["how do i return {a device|an item|my order}", "return {label|shipping}",
      "start a return", "send {back|it back}", "return {process|steps}"],
     ["where do I get the paper to ship my item back?", "initiating a product return"]),
    ("returns", "Refund timing",
     "When will I get my refund?",
     "Refunds are issued within 5 business days after the warehouse receives your return. Your "
     "bank may take another 3 to 7 days to show it.",
     ["when will i get my refund", "refund {status|time|delay}",
      "how long does a refund take", "still no refund", "where is my money back"],
     ["I sent the item back two weeks ago and haven't seen the money",
      "timeline for getting reimbursed"]),
    ("returns", "Exchange a device",
     "Can I exchange a device for another model?",
     "Yes. Start a return in Account > Orders and choose Exchange. We ship the new device as "
     "soon as the return is scanned by the carrier and charge or refund the price difference.",
     ["can i exchange {my device|it|an item}", "exchange for {another|a different} model",
      "swap {my order|a product}", "{exchange|swap} {policy|process}",
      "wrong model, can i exchange"],
     ["I bought the indoor model but need the outdoor one instead",
      "trading my purchase for something else"]),
    ("account", "Reset your password",
     "How do I reset my password?",
     "On the sign-in screen tap Forgot password and enter your email. The reset link is valid "
     "for 1 hour; check your spam folder if it does not arrive.",
     ["how do i reset my password", "forgot {my|the} password", "password reset {link|email}",
      "can't remember my password", "change {my|the} password"],
     ["I cannot recall the secret phrase for my Lumora login", "lost access credentials"]),
    ("account", "Change your email address",
     "How do I change the email address of my account?",
     "Go to Account > Profile and tap Email. We send a confirmation link to the new address; "
     "the change applies after you open it.",
     ["how do i change my email", "{update|new} email address", "change {login|account} email",
      "wrong email on my account", "email address change"],
     ["I'm switching to a new mailbox, how do I update Lumora?", "use another address for login"]),
    ("account", "Two-factor authentication",
     "How do I turn on two-factor authentication?",
     "Go to Account > Security and turn on Two-factor authentication. You can receive codes by "
     "SMS or use an authenticator app, and you get 10 backup codes.",
     ["how do i {turn on|enable|set up} two factor", "{2fa|two-factor|two step} authentication",
      "{secure|protect} my account", "authenticator app", "login codes by sms"],
     ["I want an extra verification step when I sign in", "adding a second layer of login safety"]),
    ("account", "Delete your account",
     "How do I delete my Lumora account?",
     "Go to Account > Privacy and tap Delete account. Remove all devices first. Your data and "
     "recordings are deleted within 30 days and cannot be restored.",
     ["how do i delete my account", "{close|remove|terminate} my account",
      "delete {all my data|my lumora account}", "account deletion", "erase my profile"],
     ["I want Lumora to forget me completely", "permanently closing my profile"]),
    ("account", "Cannot sign in",
     "Why can I not sign in to the Lumora app?",
     "Check that you use the email you signed up with and that the app is up to date. After 5 "
     "wrong passwords your account is locked for 15 minutes.",
     ["i can't {log in|sign in|login}", "{login|sign in} {problem|error|not working}",
      "account locked", "app says wrong password", "unable to {access|open} my account"],
     ["the app refuses my credentials every time", "stuck at the sign-in screen"]),
    ("privacy", "Where video is stored",
     "Where is my video stored?",
     "Video clips are stored encrypted in data centers in your region: the US for American "
     "customers and Frankfurt for European customers. Live view is end-to-end encrypted.",
     ["where {is my video|are my videos} stored", "{video|data} storage location",
      "are my recordings encrypted", "is {my video|live view} private",
      "which {country|servers} store my {data|clips}"],
     ["could strangers watch the footage from inside my home?", "security of my recordings"]),
    ("privacy", "Data sharing",
     "Does Lumora sell or share my data?",
     "No. Lumora never sells your data. We share it only with service providers that run our "
     "cloud, and with police only when a court order requires it.",
     ["do you {sell|share} my data", "{privacy|data} policy",
      "who can see my data", "do you give {data|video} to {police|third parties}",
      "is my data sold"],
     ["do advertisers get information about me from Lumora?", "third-party access to my info"]),
    ("privacy", "Download your data",
     "How do I download a copy of my data?",
     "Go to Account > Privacy and tap Export data. You receive an email with a download link "
     "within 48 hours; the archive includes settings, history and clips.",
     ["how do i download my data", "{export|copy} of my data", "data export",
      "get all my {data|information}", "gdpr {request|export}"],
     ["I'd like an archive of everything you hold about me", "requesting my personal records"]),
    ("app", "Supported phones",
     "Which phones does the Lumora app support?",
     "The Lumora app works on iPhone with iOS 16 or newer and on Android 10 or newer. There is "
     "also a web app at app.lumorahome.com for viewing devices.",
     ["which phones {are supported|work}", "app {requirements|compatibility}",
      "does the app work on {android|iphone|ipad}", "minimum {ios|android} version",
      "is there a web app"],
     ["will my old mobile run the Lumora application?", "app system requirements"]),
    ("app", "App notifications",
     "Why am I not getting notifications?",
     "Allow notifications for the Lumora app in your phone settings, then check Settings > "
     "Notifications in the app. Battery saver modes on Android can also block them.",
     ["i'm not getting notifications", "{notifications|alerts} not working",
      "no {push notifications|alerts} on my phone", "turn on notifications",
      "app {alerts|notifications} {missing|delayed}"],
     ["my phone stays silent even when something happens at home", "push messages never arrive"]),
    ("app", "App language",
     "How do I change the language of the app?",
     "The Lumora app uses your phone's language. It is available in English, Spanish, French, "
     "German, Italian and Dutch.",
     ["how do i change the {app language|language}", "app in {spanish|french|german}",
      "which languages {does the app support|are available}", "language settings",
      "app shows the wrong language"],
     ["can the application be displayed in Italian?", "switching interface language"]),
    ("app", "Automations",
     "How do I create an automation?",
     "In the Lumora app tap Automations > New. Choose a trigger such as motion, a time or "
     "leaving home, then the actions, for example turning on bulbs or locking the door.",
     ["how do i {create|make|set up} an automation", "{automation|routine|scene} {setup|help}",
      "turn on lights when motion is detected", "automations {not working|examples}",
      "create a {routine|scene}"],
     ["can my house do things by itself when I come home?", "rules that link my devices"]),
    ("app", "Away mode",
     "What does Away mode do?",
     "Away mode arms your cameras and sensors, sends alerts for any motion and can switch plugs "
     "and bulbs at random times. Turn it on from the home screen or automatically by location.",
     ["what does away mode do", "{away|vacation|holiday} mode", "arm my {system|cameras}",
      "home and away {modes|settings}", "going on vacation settings"],
     ["what should I switch on before leaving for two weeks?", "arming the house while travelling"]),
    ("support", "Contact customer support",
     "How do I contact customer support?",
     "Chat with us in the Lumora app under Support, or email help@lumorahome.com. Agents "
     "answer every day from 8 am to 8 pm Eastern time.",
     ["how do i contact {support|customer service}", "support {email|hours|phone number}",
      "when is support open", "customer service {hours|contact}", "email address for help"],
     ["what times can I reach a real agent?", "reaching the helpdesk"]),
    ("support", "Where to buy",
     "Where can I buy Lumora devices?",
     "Lumora devices are sold on lumorahome.com and at Best Buy, Amazon and Home Depot. Prices "
     "on lumorahome.com include free returns for 30 days.",
     ["where can i buy {lumora devices|a camera|your products}", "{stores|shops} that sell lumora",
      "is lumora on amazon", "buy in store", "retailers"],
     ["which shops carry your gadgets?", "purchasing options for Lumora products"]),
    ("support", "Gift cards",
     "Do you sell gift cards?",
     "Yes. Digital gift cards from 25 to 500 dollars are sold on lumorahome.com and never "
     "expire. They can pay for devices and for Lumora Plus.",
     ["do you sell gift cards", "gift {card|voucher}", "buy a gift card",
      "gift card {balance|expiry}", "pay with a gift card"],
     ["can I give someone Lumora credit as a present?", "voucher for a friend's birthday"]),
    ("support", "Recycling old devices",
     "How do I recycle an old Lumora device?",
     "Request a free recycling label in Account > Recycle. Send the device without batteries "
     "and get a 15 percent discount code for your next order.",
     ["how do i recycle {a device|my old camera|old devices}", "recycling program",
      "dispose of {a|my} old {device|lumora device}", "trade in old device",
      "recycle batteries"],
     ["what's the eco-friendly way to get rid of my broken gadget?", "e-waste program"]),
    ("warranty", "What the warranty covers",
     "What does the Lumora warranty cover?",
     "The warranty covers defects in materials and workmanship. It does not cover damage from "
     "drops, water on indoor devices, or repairs done by others.",
     ["what does the warranty cover", "warranty {exclusions|terms|conditions}",
      "is {water damage|a drop} covered", "dropped my device, warranty",
      "warranty {coverage|policy}"],
     ["my phone fell on the gadget and cracked it, will you fix it?",
      "limits of the guarantee"]),
    ("warranty", "Warranty replacement process",
     "How does a warranty replacement work?",
     "After you file a claim, support confirms the defect, often with a short video. We ship a "
     "replacement within 3 business days and include a prepaid label for the faulty device.",
     ["how does a warranty replacement work", "warranty {replacement|claim} {process|steps}",
      "how long does a warranty claim take", "send a defective device",
      "replacement under warranty"],
     ["what happens after I report a defect?", "getting a new unit for a faulty one"]),
]

# Out-of-scope user questions: they must be escalated. (train, eval) lists are disjoint.
OUT_OF_SCOPE_TRAIN = [
    "what is the weather tomorrow", "can you write me a poem about cats",
    "what is the capital of france", "who won the football game last night",
    "how do i bake sourdough bread", "what is 17 times 23", "tell me a joke",
    "recommend a good movie", "how do i fix my car's brakes", "what is the stock price of apple",
    "can you help with my math homework", "translate hello into japanese",
    "how do i install windows 11", "what time is it in tokyo", "who is the president of brazil",
    "best pizza place near me", "how tall is mount everest", "write a python function to sort a list",
    "how do i lose weight fast", "what should i name my dog", "book a flight to paris",
    "explain quantum computing", "how do i repair a leaking faucet", "what is the meaning of life",
    "can you order me a pizza", "how do i train my puppy", "what's a good birthday present for my mom",
    "does samsung make good tvs", "how do i unclog a drain", "what is bitcoin",
    "can you play some music", "how do i change a tire", "what are the symptoms of flu",
    "plan a trip to rome for me", "how many calories are in a banana", "what is the best laptop",
    "how do i cook rice", "who wrote hamlet", "how do i get rid of ants",
    "can you do my taxes", "what is the speed of light", "how do i knit a scarf",
    "is it going to snow this weekend", "what language do they speak in brazil",
    "how do i make a website", "what is the distance to the moon",
    "give me a workout plan", "how do i paint my bedroom", "recommend a book to read",
    "what are your thoughts on politics",
]
OUT_OF_SCOPE_EVAL = [
    "who painted the mona lisa", "how do I grow tomatoes on a balcony",
    "what is the population of canada", "suggest a vegan dinner recipe",
    "how do I set up a fish tank", "what year did the titanic sink",
    "can you summarize the news today", "which is bigger, a whale or an elephant",
    "how do I learn to play guitar", "what's the exchange rate of euro to dollar",
    "help me write a cover letter", "how do I clean a leather sofa",
    "what are the rules of chess", "where can I rent a bike in amsterdam",
    "why is the sky blue", "how do I make cold brew coffee",
    "what's a good name for a bakery", "can you recommend a dentist",
    "how many players are on a soccer team", "what is photosynthesis",
    "how do I remove a wine stain", "tell me about the roman empire",
    "what should I wear to a wedding", "how do I meditate",
    "is coffee bad for you", "what is the longest river in the world",
    "how do I start a podcast", "find me a cheap hotel in london",
    "how do volcanoes form", "what's the best way to learn spanish",
    "can you draw a picture of a horse", "how much does a tesla cost",
    "what's the score of the basketball game", "how do I fold a paper airplane",
    "explain how vaccines work", "which phone has the best camera",
    "how do I write a haiku", "what do cats eat", "how long should I boil an egg",
    "what is the tallest building in the world",
]

# Tool intents.
ORDER_TRAIN = [
    "where is my order {oid}", "can you check order {oid}", "status of {oid}",
    "what's happening with order {oid}", "has {oid} shipped yet", "track {oid} please",
    "my order number is {oid}, where is it", "{oid} hasn't arrived", "any news on {oid}",
    "order {oid} status", "when will {oid} be delivered", "look up my order {oid}",
]
ORDER_EVAL = [
    "could you find out where package {oid} is right now?",
    "I'm waiting for {oid}, is it on the way?",
    "info on purchase {oid} please",
]
TICKET_TRAIN = [
    "i want to talk to a human about {issue}", "please open a support ticket: {issue}",
    "can i speak to an agent? {issue}", "create a ticket for me, {issue}",
    "connect me with a real person, {issue}", "escalate this please: {issue}",
    "i need a human, {issue}", "file a complaint: {issue}",
]
TICKET_EVAL = [
    "get me someone from your team, {issue}",
    "I'd like a support case opened because {issue}",
]
TICKET_ISSUES_TRAIN = [
    "my camera arrived broken", "the app crashes every time i open it",
    "i was charged twice this month", "my doorbell stopped working after the update",
    "the lock keeps beeping at night", "my refund never came", "the hub smells like burning",
    "my thermostat shows the wrong temperature", "i got the wrong item",
    "my account was hacked", "the plug sparks when i switch it on",
    "the speaker makes a buzzing noise", "the leak sensor alarm went off with no water",
    "my order is missing two items", "the bulb flickers all the time",
]
TICKET_ISSUES_EVAL = [
    "the outdoor camera fell off the wall", "my invoice has the wrong address",
    "the motion sensor battery got very hot", "the app shows someone else's camera",
]
