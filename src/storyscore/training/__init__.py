"""The research side: training loops, losses, experiments and metrics for the emotion spaces and the music reader.
Nothing in the product (spaces, library, soundtrack, cli, web) imports this package: models load without it."""
