"""Planning a soundtrack for a whole story: reading it, cutting it into scenes, choosing a track per scene
with continuity, and writing playlists, cue sheets, reports and a mix. (Not named `plan`, so the package
never shadows the `storyscore.plan()` function.)"""
