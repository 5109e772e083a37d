//! The WASM entry: hydrates the islands in the server-rendered page (the rest of the
//! page is plain HTML and needs no code in the browser).
// Links the app crate, whose islands are exported to the hydration script by name.
extern crate app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics in the console cost size: debug builds only.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
