//! Turning raw input bytes into normalised configuration items: the streaming [`split::Splitter`]
//! finds items and documents, [`shape`] recognises documents.

pub mod shape;
pub mod split;
