// rigctl's QA commands over a certificate archive: list, show, verify, export, stats. Every
// certificate shown is verified against its signature first (list reads only the index unless
// asked to verify); every command can answer in JSON; exit codes are the same everywhere.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "reports/trust.hpp"
#include "rig/archive/archive.hpp"

namespace rig::qa {

// rigctl's exit codes (README "rigctl exit codes", and --help).
enum Exit : int {
    exit_ok = 0,
    exit_verification_failed = 1,  // a certificate, chain, checkpoint, manifest or bundle file did not verify
    exit_bad_input = 2,            // bad arguments; a file that cannot be read or parsed; no trusted keys
    exit_not_found = 3,            // nothing in the archive matches (no such serial, an empty selection)
    exit_io_error = 4,             // the archive could not be read, or the output not written
};
inline constexpr const char* kExitCodesHelp =
    "exit codes: 0 ok, 1 verification failed, 2 bad input, 3 not found, 4 archive or output I/O error";

// Prints "rigctl: MESSAGE" (made printable) on stderr and returns `code`.
int fail(const std::string& message, int code = exit_bad_input);
// The exit code of an error from below: I/O errors 4, everything else bad input.
int fail(const Error& e);

// The trust store from --trust files and directories (binding files, root keys), or `fallback`.
Result<reports::TrustStore> load_trust(const std::vector<std::string>& given, const std::filesystem::path& fallback);

struct Source {
    std::string archive;  // the SQLite archive (read-only), or the factory archive's postgresql:// URL
    reports::TrustStore trust;
};

struct ListOptions {
    archive::Filter filter;
    bool verify = false;  // read and verify each row's envelope (slower), else the index only
    bool json = false;
};
int list(const Source& src, const ListOptions& o);

struct ShowOptions {
    std::string serial;
    bool latest = false;
    bool json = false;
    bool html = false;
    std::string output;  // --html: write here instead of stdout
};
int show(const Source& src, const ShowOptions& o);

}  // namespace rig::qa

namespace rig::qa {

struct ExportOptions {
    archive::Filter filter;
    std::filesystem::path output;
    std::filesystem::path key;          // the signing key: the station's, or a root (QA) key NAME.root.key
    std::filesystem::path trust_dir;    // bindings and endorsements to bundle (DATA/trust)
    std::filesystem::path checkpoints;  // the station's checkpoint files (DATA/checkpoints)
    std::string created_by;             // "rigctl 0.1.0"
    bool json = false;
};
// Every selected certificate, verified first: one that does not verify stops the export and
// leaves no file (exit 1); an empty selection writes nothing (exit 3).
int export_bundle(const Source& src, const ExportOptions& o);

struct VerifyOptions {
    std::vector<std::string> files;        // certificate files, or one bundle
    std::string archive;                   // or a whole archive
    std::vector<std::string> checkpoints;  // held outside the station
    std::filesystem::path data;            // the data directory (its exports and checkpoint files)
    bool json = false;
    bool brief = false;                    // only the bad certificates, the problems and the summary
};
int verify(const reports::TrustStore& trust, const VerifyOptions& o);
bool is_bundle_name(const std::string& file);

// Root (QA) keys and endorsements of station key bindings.
int make_root_key(const std::filesystem::path& dir, const std::string& name);
int endorse(const std::filesystem::path& root_key, std::vector<std::string> bindings, const std::filesystem::path& trust_dir);

}  // namespace rig::qa

namespace rig::qa {

struct StatsOptions {
    archive::Filter filter;
    std::size_t points = 500;  // each control chart: the series' last points
    bool json = false;
    std::string html;  // write the HTML page here
};
// Over every selected certificate that verifies; one that does not is left out, named, and
// makes the exit 1. Nothing selected: exit 3.
int stats(const Source& src, const StatsOptions& o);

}  // namespace rig::qa
