//! The configuration loader, alone and over the `quick` preset.
#![no_main]

#[path = "scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use vaeser::config::Config;

fuzz_target!(|data: &[u8]| {
    let path = scratch::dir().join("c.toml");
    scratch::write(&path, data);
    let _ = Config::load(&path);
    let quick = Config::preset("quick").unwrap();
    if let Ok(c) = Config::load_over(&quick, &path) {
        // What validation accepts must be printable and read back the same.
        let back: Config = toml::from_str(&c.to_toml()).expect("a valid configuration prints");
        assert_eq!(back, c);
    }
});
