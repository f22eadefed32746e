"""Browser assets Rounds serves itself (hospital networks block public CDNs): pinned npm
packages copied into app/static/<name>/ at install time by scripts/build_explorers.py, with
the public CDN as the fallback when they were not built (no npm on the machine)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"


@dataclass(frozen=True)
class AssetSet:
    name: str  # folder under app/static/ and URL segment under /static/
    packages: dict[str, str]  # npm package -> exact version
    assets: dict[str, tuple[str, str]]  # file served -> (npm package, path inside it)

    @property
    def static_dir(self) -> Path:
        return STATIC_ROOT / self.name

    @property
    def static_url(self) -> str:
        return f"/static/{self.name}"

    def built(self) -> bool:
        return all((self.static_dir / name).is_file() for name in self.assets)

    def cdn(self, name: str) -> str:
        package, path = self.assets[name]
        return f"https://unpkg.com/{package}@{self.packages[package]}/{path}"

    def urls(self) -> dict[str, str]:
        """Local URLs when the assets were built, else the CDN."""
        if self.built():
            return {name: f"{self.static_url}/{name}" for name in self.assets}
        return {name: self.cdn(name) for name in self.assets}
