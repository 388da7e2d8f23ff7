//! Inputs: expanding paths, decompressing and sniffing formats.
