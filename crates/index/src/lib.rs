//! The search index over stored events: a derived view of the evidence store, rebuildable from it (work in progress).
