"""The demo: music made on the spot: music21 corpus pieces, transformed and rendered with a General-MIDI soundfont.

Two uses share this machinery:

* ``render_demo_library`` writes the small library of ``storyscore demo``: 15 pieces of clearly different
  character (calm, sad, scary, angry, happy, exciting, triumphant, funny, mysterious), in a mix of formats
  (.ogg, .flac, .wav), one sub-folder and one file name with spaces; a manifest makes it idempotent.
* ``render_mood_set`` writes a labelled set in the generic layout ``<out>/audio/<label>/<name>.wav`` for the
  seven AudioSet mood classes (angry, exciting, funny, happy, sad, scary, tender). Each clip is a corpus
  piece (Bach chorale or a fiddle tune from Ryan's Mammoth Collection) rendered with mode, tempo, register,
  loudness, articulation, instrumentation and texture drawn at random *within its class's rule ranges*.

How a piece is made: parse a corpus score, find its key (Krumhansl), harmonise it if it is a single melody
(I/IV/V/vi/ii chosen per half bar by how much of the melody they cover), map its pitches onto a target mode
relative to the key (e.g. major → minor lowers scale degrees 3 and 6, aeolian also 7, phrygian also 2),
transpose to a target tonic, shift each voice's register, re-articulate (duration fraction, tremolo, octave
leaps), add optional drone, dissonant cluster notes and a drum track on GM channel 10, and write a Standard
MIDI File ourselves. ``midirenderer`` renders it in-process with the TimGM6mb soundfont shipped inside
``pretty_midi``. Length is bounded *before* rendering (no note may start or sound past the requested
duration, the MIDI file ends 1 s later) and again after (audio is cut, faded and peak-normalised). The
fluidsynth CLI is never used.

Mood rules (``MOOD_RULES``) — from cue summaries of music-psychology research:
Juslin & Laukka (2003, Psychological Bulletin 129:770, review of 41 performance studies), Gabrielsson &
Lindström (2010, "The role of structure in the musical expression of emotions", Handbook of Music and
Emotion), Eerola, Friberg & Bresin (2013, Frontiers in Psychology 4:487, factorial cue manipulation: mode,
tempo, register, dynamics, articulation, timbre) and Hevner's adjective studies (1935–37).

=========  ==================  =========  =========  ========  ==============  ===============================
class      mode                tempo bpm  register   velocity  articulation    instruments / texture
=========  ==================  =========  =========  ========  ==============  ===============================
happy      major / mixolydian  112–144    mid-high   70–95     light (.55–.8)  piano, flute, guitar, marimba;
                                                                               oom-pah/arpeggio; light drums
exciting   major / lydian      150–184    high       100–122   short (.45–.7)  synth lead, brass, e-guitar,
                                                                               driving bass, rock drums
funny      major               126–168    high       72–100    staccato        piccolo, clarinet, bassoon,
                                                     (.2–.4)                   pizzicato, xylophone; octave
                                                                               leaps, oom-pah, woodblocks
tender     major               54–76      mid        38–62     legato (.95+)   strings, flute, piano, nylon
                                                                               guitar; arpeggio/block; reverb
sad        minor / aeolian     40–62      low        35–60     legato (.95+)   cello, oboe, bassoon, horn,
                                                                               strings; block chords
scary      phrygian / locrian  84–132     low (+     45–115    mixed, tremolo  tremolo strings, choir, low
                                                     wide spread)              brass, timpani; drone, minor-2nd
                                                                               and tritone clusters, crescendo
angry      minor / phrygian    138–176    low-mid    105–127   accented        distortion/overdrive guitar,
                                                     (.5–.8)                   brass, synth bass; power chords,
                                                                               ostinato bass, heavy drums
=========  ==================  =========  =========  ========  ==============  ===============================

Reasoning per class (the cue profiles of the sources above):

* happy — major mode, fast tempo, high pitch, moderately loud, staccato/light articulation, consonance,
  bright timbre, small sound-level variability (J&L 2003 Table 11; G&L 2010).
* exciting — the high-arousal positive corner: fastest tempi, loudest levels, dense rhythm and percussion,
  bright/sharp timbres; mode major (arousal cues dominate valence cues, Eerola et al. 2013).
* funny — Hevner's "playful/humorous" cluster: fast, major, high register, staccato; large pitch leaps and
  "comic" timbres (bassoon, piccolo, pizzicato, xylophone, woodblock) as in cartoon scoring.
* tender — major, slow, soft, legato, soft timbre, consonant, medium-high pitch, little variability
  (J&L 2003: tenderness; G&L 2010: "serenity/tenderness").
* sad — minor mode, slow tempo, low pitch, soft, legato, dull/dark timbre, small pitch range
  (J&L 2003 sadness: the most consistent profile across studies).
* scary — dissonance (minor seconds, tritones), minor/phrygian/locrian mode, low register with wide
  spacing, tremolo, large sound-level variability and crescendo (J&L 2003 fear: tremolo, large
  sound-level variability; film-music horror conventions for drones and clusters).
* angry — minor, fast, loud, sharp/rough timbre (distortion = spectral noise), accented/staccato attacks,
  heavy percussion, low-mid register (J&L 2003 anger: high sound level, sharp timbre, fast, accents).

``mood_rules_table()`` returns the rules as data rows for reports.
"""
