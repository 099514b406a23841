//! Placeholder: decoding is being written.
