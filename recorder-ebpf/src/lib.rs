#![no_std]
// This file exists so the host build (recorder's build-dependency) has a
// library target; the programs are in main.rs.
