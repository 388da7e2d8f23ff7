//! Synthetic data writers: captures for tests now, whole scenarios later.
