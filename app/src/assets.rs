//! The stylesheet link and the islands loader in every page's `<head>`, with the
//! build's file names worked out once per process.
//!
//! Leptos' `HashedStylesheet` and `HydrationScripts` find the hashed names by resolving
//! the executable's path and reading the hash file from disk on every page they render:
//! several system calls a page, a tenth of the CPU of an anonymous page view. These
//! render the same tags from names read once. The loader script is Leptos 0.8's
//! `island_script.js` (MIT), unchanged: the browser tests hydrate through it.
use leptos::prelude::*;
use std::sync::OnceLock;

/// The file names in `/pkg`, without their extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetNames {
    pub css: String,
    pub js: String,
    pub wasm: String,
}

impl AssetNames {
    /// The names for `output_name` and the build's hash file (`js: …`, `wasm: …`,
    /// `css: …` lines), or the unhashed names.
    pub fn from_hashes(output_name: &str, hashes: Option<&str>) -> Self {
        let mut names = AssetNames {
            css: output_name.to_owned(),
            js: output_name.to_owned(),
            wasm: output_name.to_owned(),
        };
        for line in hashes.unwrap_or_default().lines() {
            let Some((file, hash)) = line.trim().split_once(':') else {
                continue;
            };
            let name = match file.trim() {
                "css" => &mut names.css,
                "js" => &mut names.js,
                "wasm" => &mut names.wasm,
                _ => continue,
            };
            name.push('.');
            name.push_str(hash.trim());
        }
        names
    }

    /// Read once: the hash file next to the executable, where cargo-leptos writes it.
    fn get(options: &LeptosOptions) -> &'static AssetNames {
        static NAMES: OnceLock<AssetNames> = OnceLock::new();
        NAMES.get_or_init(|| {
            let hashes = options
                .hash_files
                .then(|| {
                    let exe = std::env::current_exe().ok()?;
                    std::fs::read_to_string(exe.parent()?.join(options.hash_file.as_ref())).ok()
                })
                .flatten();
            if options.hash_files && hashes.is_none() {
                leptos::logging::error!("file hashing is on but the hash file cannot be read");
            }
            let mut names = AssetNames::from_hashes(&options.output_name, hashes.as_deref());
            // As Leptos names an unhashed build's WASM outside cargo-leptos.
            if !options.hash_files && option_env!("LEPTOS_OUTPUT_NAME").is_none() {
                names.wasm.push_str("_bg");
            }
            names
        })
    }
}

const ISLAND_LOADER: &str = include_str!("island_loader.js");

/// `<link rel="stylesheet">` for the app's CSS.
#[component]
pub fn AppStylesheet(options: LeptosOptions) -> impl IntoView {
    let names = AssetNames::get(&options);
    let href = format!("/{}/{}.css", options.site_pkg_dir, names.css);
    view! { <link id="leptos" rel="stylesheet" href=href /> }
}

/// What Leptos' `HydrationScripts` renders in islands mode: preloads for the JS and the
/// WASM, and the module script that hydrates each island.
#[component]
pub fn IslandScripts(options: LeptosOptions) -> impl IntoView {
    let names = AssetNames::get(&options);
    // Islands are hydrated by the loader, not as one app.
    if let Some(sc) = Owner::current_shared_context() {
        sc.set_is_hydrating(false);
    }
    let nonce = leptos::nonce::use_nonce();
    let pkg = options.site_pkg_dir.to_string();
    let script = format!(
        "{ISLAND_LOADER}({:?}, {pkg:?}, {:?}, {:?}, false);",
        "", names.js, names.wasm
    );
    view! {
        // `crossorigin=""` is the anonymous mode Leptos gets by writing the nonce there (an
        // unknown value); the nonce itself stays in one place, for the page cache's sake.
        <link rel="modulepreload" href=format!("/{pkg}/{}.js", names.js) crossorigin="" />
        <link
            rel="preload"
            href=format!("/{pkg}/{}.wasm", names.wasm)
            r#as="fetch"
            r#type="application/wasm"
            crossorigin=""
        />
        <script type="module" nonce=nonce>
            {script}
        </script>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_come_from_the_hash_file() {
        let names = AssetNames::from_hashes(
            "fuzhen",
            Some("js: XGGL\nwasm: ULVI\ncss: IMGk\n\nsplit: x\n"),
        );
        assert_eq!(
            names,
            AssetNames {
                css: "fuzhen.IMGk".into(),
                js: "fuzhen.XGGL".into(),
                wasm: "fuzhen.ULVI".into(),
            }
        );
        assert_eq!(
            AssetNames::from_hashes("fuzhen", None),
            AssetNames {
                css: "fuzhen".into(),
                js: "fuzhen".into(),
                wasm: "fuzhen".into(),
            }
        );
    }

    #[test]
    fn the_loader_is_leptos_islands_script() {
        // Called with (root, pkg_path, output_name, wasm_output_name); hydrates islands.
        assert!(ISLAND_LOADER.starts_with("((root, pkg_path, output_name, wasm_output_name) =>"));
        assert!(ISLAND_LOADER.contains("mod.hydrate();"));
        assert!(ISLAND_LOADER.contains("hydrateIslands(document.body, mod);"));
    }
}
