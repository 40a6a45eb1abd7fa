"""Pure analytics: DataFrame in, DataFrame out (clean, metrics, rfm, segments, predict); no I/O."""
