//! Readers for every Microsoft 365 audit and Entra ID log format (work in progress).
