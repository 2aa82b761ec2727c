//! The dashboard's files, compiled into the binary: the page works with no
//! network beyond the runtime itself. uPlot is the copy the backtest report
//! vendors (runtime/assets/uplot/).

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

pub const PAGE: &str = include_str!("../../../assets/dashboard/index.html");

/// Served under `/dashboard/{name}`.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../../assets/dashboard/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../../assets/dashboard/app.css"),
    },
    Asset {
        name: "uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../../assets/uplot/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../../assets/uplot/uPlot.min.css"),
    },
];

pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_17_the_page_names_only_embedded_assets_and_no_remote_url() {
        for needed in ["app.js", "app.css", "uPlot.iife.min.js", "uPlot.min.css"] {
            assert!(
                PAGE.contains(&format!("/dashboard/{needed}")),
                "the page does not load {needed}"
            );
            assert!(find(needed).is_some(), "{needed} is not embedded");
        }
        // The dashboard's own files load nothing from elsewhere (uPlot is
        // the vendored copy the report uses).
        for (name, text) in [
            ("index.html", PAGE),
            ("app.js", ASSETS[0].body),
            ("app.css", ASSETS[1].body),
        ] {
            for remote in ["http://", "https://", "//cdn"] {
                assert!(
                    !text.contains(remote),
                    "{name} names a remote URL ({remote})"
                );
            }
        }
        assert!(find("../Cargo.toml").is_none());
    }
}
