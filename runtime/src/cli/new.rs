//! `runtime new DIR`: start a strategy crate anywhere on disk.

use sandbar_runtime::build::new::{self, NewOptions, TEMPLATES};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The crate directory to create (missing or empty).
    dir: PathBuf,
    /// What to start from: `empty` (no orders), `sma-cross` (the example),
    /// `python` or `js` (the sma-cross example as a Python or JavaScript
    /// strategy).
    #[arg(long, default_value = "empty")]
    template: String,
    /// The package name [default: the directory's name].
    #[arg(long)]
    name: Option<String>,
    /// The guest SDK to depend on (a checkout's guest-sdk) [default:
    /// $SANDBAR_SDK, else the checkout this runtime was built from].
    #[arg(long, value_name = "DIR")]
    sdk: Option<PathBuf>,
}

impl NewArgs {
    pub fn execute(self) -> anyhow::Result<ExitCode> {
        if self.template == "python" {
            return self.python();
        }
        if self.template == "js" {
            return self.js();
        }
        let created = new::create(&NewOptions {
            dir: self.dir,
            template: self.template.clone(),
            name: self.name,
            sdk: self.sdk,
        })
        .map_err(|e| {
            let mut names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
            names.extend(["python", "js"]);
            e.context(format!(
                "runtime new failed (templates: {})",
                names.join(", ")
            ))
        })?;
        println!(
            "created {} ({} template) in {}",
            created.package,
            self.template,
            created.dir.display()
        );
        println!("  files  {}", created.files.join(", "));
        println!("  sdk    {}", created.sdk.display());
        println!();
        println!("next:");
        println!("  cd {} && cargo test", created.dir.display());
        println!("  runtime build {}", created.dir.display());
        println!();
        println!("config snippet (also in strategy.toml):");
        print!("{}", created.snippet);
        Ok(ExitCode::SUCCESS)
    }
}

impl NewArgs {
    fn python(self) -> anyhow::Result<ExitCode> {
        let sdk = sandbar_runtime::build::sdk::locate(self.sdk.as_deref())?;
        let created =
            sandbar_runtime::build::new_python::create(&self.dir, self.name.as_deref(), &sdk)?;
        println!(
            "created {} (python template) in {}",
            created.name,
            created.dir.display()
        );
        println!("  files  {}", created.files.join(", "));
        println!();
        println!("next:");
        println!(
            "  cd {} && python3 -m unittest discover -s tests",
            created.dir.display()
        );
        println!("  runtime build {}", created.dir.display());
        println!();
        println!("config snippet (also in strategy.toml):");
        print!("{}", created.snippet);
        Ok(ExitCode::SUCCESS)
    }
}

impl NewArgs {
    fn js(self) -> anyhow::Result<ExitCode> {
        let sdk = sandbar_runtime::build::sdk::locate(self.sdk.as_deref())?;
        let created =
            sandbar_runtime::build::new_js::create(&self.dir, self.name.as_deref(), &sdk)?;
        println!(
            "created {} (js template) in {}",
            created.name,
            created.dir.display()
        );
        println!("  files  {}", created.files.join(", "));
        println!();
        println!("next:");
        println!("  cd {} && npm test", created.dir.display());
        println!("  runtime build {}", created.dir.display());
        println!();
        println!("config snippet (also in strategy.toml):");
        print!("{}", created.snippet);
        Ok(ExitCode::SUCCESS)
    }
}
