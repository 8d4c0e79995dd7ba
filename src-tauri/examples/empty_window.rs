//! The yardstick of the app benchmark (`scripts/app-bench`): an empty Tauri 2 window of the
//! same size, built with the same Tauri, WebKitGTK and profile. It prints `painted <unix ms>`
//! when its blank page has loaded.

use tauri::webview::PageLoadEvent;

fn main() {
    let mut context = tauri::generate_context!("../tauri.conf.json");
    context.config_mut().app.windows.clear();
    tauri::Builder::default()
        .setup(|app| {
            tauri::WebviewWindowBuilder::new(
                app,
                "empty",
                tauri::WebviewUrl::App("empty.html".into()),
            )
            .inner_size(1366.0, 768.0)
            .on_page_load(|_, payload| {
                if payload.event() == PageLoadEvent::Finished {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default();
                    println!("painted {}", now.as_millis());
                }
            })
            .build()?;
            Ok(())
        })
        .run(context)
        .expect("the empty window did not open");
}
