// Where rigd and rigctl keep their state when not told otherwise.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

namespace rig::app {

// $RIG_DATA, else $XDG_DATA_HOME/rig, else ~/.local/share/rig.
inline std::filesystem::path default_data_dir() {
    if (const char* d = std::getenv("RIG_DATA"); d && *d) return d;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::filesystem::path(x) / "rig";
    if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".local" / "share" / "rig";
    return "rig-data";
}

struct DataPaths {
    std::filesystem::path root;
    std::filesystem::path key() const { return root / "station.key"; }
    std::filesystem::path trust() const { return root / "trust"; }
    std::filesystem::path archive() const { return root / "archive.sqlite"; }
    std::filesystem::path certificates() const { return root / "certificates"; }
    std::filesystem::path checkpoints() const { return root / "checkpoints"; }
    std::filesystem::path lock() const { return root / "rigd.lock"; }
    std::filesystem::path control() const { return root / "rigd.sock"; }  // rigd's local control socket
    std::filesystem::path tokens() const { return root / "tokens.json"; }  // API tokens: hashes, names, roles
};

}  // namespace rig::app
