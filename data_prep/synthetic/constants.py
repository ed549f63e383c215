"""Constants shared by the synthetic renderer: raw image geometry, flash layout, jitter, labels."""
DEFAULT_IMAGE_SIZE = (640, 480)  # (width, height) of raw Multi-PIE images
# Spec 1.2 rescales the eye-centre to mouth-centre distance to 48 px. Assumed (not measured
# on Multi-PIE): a raw 640x480 frontal face has it at roughly 60-70 px, so alignment shrinks
# the image a little. 0.9 px/mm with a 60-72 mm eye-mouth distance gives 54-65 px.
PIXELS_PER_MM_AT_480 = 0.9
EYE_ROW_FRACTION = 0.42  # eye line at 42% of the image height, shoulders at the bottom
# Synthetic flash layout (our convention, fixed function of the index): 00 and 19 have no
# flash (room light only, as in Multi-PIE); 01..13 sit on a horizontal arc from -90 deg
# (light from image-left of the frontal view) to +90 deg in 15 deg steps, so 07 is frontal;
# 14..18 sit higher up at -60..+60 deg.
DEFAULT_ILLUMINATIONS = (3, 7, 11)  # left-lit (-60), frontal (0), right-lit (+60)
NO_FLASH = (0, 19)
LANDMARKS_FILE = "landmarks.csv"
RECORDING = 1  # neutral expression (tpgan spec 6.1)
# Per (subject, session, camera) jitter, shared by its illuminations: Multi-PIE takes the
# 20 flashes of one camera within a second, and its 5-point file is shared by them (spec 1.3).
JITTER_SHIFT = 0.0125  # +- fraction of the image size (8 px at 640x480)
JITTER_ROLL_DEG = 3.0
JITTER_YAW_DEG = 2.0
JITTER_SCALE = 0.02
NOISE_SIGMA = 2.0  # sensor noise, grey levels

# Part labels of the optional label map returned by `render_view(..., return_parts=True)`.
# "eye_neg" is the eye at theta < 0 (image-left in the frontal view), "eye_pos" the other one.
PARTS = ("background", "skin", "hair", "brow", "eye_neg", "eye_pos", "lips", "clothes")
PART_ID = {name: i for i, name in enumerate(PARTS)}

_BACKGROUND_RGB = (122, 122, 120)  # plain grey studio background
_SKULL_WIDEST_Y = 40.0  # mm above the eye line; the skull above it is a rounded cap
