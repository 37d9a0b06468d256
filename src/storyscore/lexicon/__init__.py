"""Emotion word norms (Warriner valence–arousal, GloVe vectors) and the label vocabularies of the datasets."""
