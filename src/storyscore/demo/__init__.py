"""The demo: music written and rendered on the spot (theory, arrangement, MIDI, rendering), the demo library and the mood clip set."""
