#include "rig/app/campaign.hpp"
#include "rig/app/campaign_report.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "reports/text.hpp"

namespace rig::app {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

// A child process with its stdout and stderr in files.
struct Child {
    pid_t pid = -1;
    int status = 0;
    bool exited = false;

    static Child spawn(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
        Child c;
        c.pid = ::fork();
        if (c.pid == 0) {
            ::setpgid(0, 0);  // its own group: a terminal's SIGINT reaches rigctl, which stops it
            const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(o, 1);
            ::dup2(e, 2);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            std::fprintf(stderr, "cannot run %s\n", args[0]);
            ::_exit(127);
        }
        return c;
    }
    bool poll() {
        if (exited || pid < 0) return exited;
        if (::waitpid(pid, &status, WNOHANG) == pid) exited = true;
        return exited;
    }
    int stop(std::chrono::milliseconds grace = 10s) {
        if (pid < 0) return -1;
        if (!poll()) ::kill(pid, SIGTERM);
        const auto until = std::chrono::steady_clock::now() + grace;
        while (!poll() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
        if (!exited) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            exited = true;
        }
        return code();
    }
    int code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }
};

std::string slurp(const fs::path& f) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A live process's peak resident set (VmHWM) in MiB and its CPU seconds (user + system).
std::pair<double, double> usage_of(pid_t pid) {
    double rss = 0, cpu = 0;
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0) rss = std::atof(line.c_str() + 6) / 1024.0;
    const auto stat = slurp(fmt::format("/proc/{}/stat", pid));
    if (const auto paren = stat.rfind(')'); paren != std::string::npos) {
        std::istringstream fields(stat.substr(paren + 2));
        std::string f;
        long long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> f; ++i) {
            if (i == 14) utime = std::atoll(f.c_str());
            if (i == 15) stime = std::atoll(f.c_str());
        }
        cpu = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    return {rss, cpu};
}

int safety_violations_of(const std::string& sim_out) {
    const auto at = sim_out.rfind("safety violations ");
    return at == std::string::npos ? 0 : std::atoi(sim_out.c_str() + at + 18);
}

// A private run directory: never the user's data directory. Empty on failure (said why).
fs::path make_run_dir(const CampaignOptions& o) {
    std::error_code ec;
    fs::path run = o.run_dir;
    if (run.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "rig-campaign.XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) {
            fmt::print(stderr, "rigctl: campaign: cannot create a run directory in {}\n", fs::temp_directory_path().string());
            return {};
        }
        run = tmpl;
    }
    fs::create_directories(run, ec);
    return run;
}

// rigd's arguments: one --jig per simulated jig rigsim listed.
std::vector<std::string> rigd_args(const fs::path& bin, const fs::path& run, const CampaignOptions& o) {
    std::vector<std::string> args = {(bin / "rigd").string(), "--data", (run / "data").string(), "--operator", "campaign", "--listen", "127.0.0.1:0"};
    if (!o.variants.empty()) args.insert(args.end(), {"--variants", o.variants});
    std::istringstream jigs(slurp(run / "sim" / "jigs.txt"));
    for (std::string j; std::getline(jigs, j);) args.insert(args.end(), {"--jig", j});
    return args;
}

// Waits for rigsim's "done" (or a child stopping, or an interrupt). False when rigd's operator
// output (verdicts, aborts, a lost jig) stayed unchanged for stall_s: the line stalled.
template <class Said>
bool wait_for_line(const fs::path& run, int stall_s, Said&& sim_said, Child& sim, Child& rigd) {
    std::error_code ec;
    auto last_size = fs::file_size(run / "rigd.out", ec);
    auto last_change = std::chrono::steady_clock::now();
    while (!sim_said("rigsim: done") && !g_interrupted && !sim.poll() && !rigd.poll()) {
        std::this_thread::sleep_for(50ms);
        const auto size = fs::file_size(run / "rigd.out", ec);
        const auto now = std::chrono::steady_clock::now();
        if (size != last_size) last_size = size, last_change = now;
        else if (now - last_change > std::chrono::seconds(stall_s)) return false;
    }
    return true;
}

}  // namespace

int run_campaign(const CampaignOptions& o, const char* argv0) {
    std::error_code ec;
    if (!fs::is_regular_file(o.population, ec)) {
        fmt::print(stderr, "rigctl: campaign: {}: no such population file\n", o.population);
        return 2;
    }
    const auto exe = fs::canonical("/proc/self/exe", ec);
    const auto bin = (ec ? fs::path(argv0) : exe).parent_path();
    const fs::path run = make_run_dir(o);
    if (run.empty()) return 2;
    fmt::print("campaign: {} on {} nests, run directory {}\n", o.population, o.nests, run.string());
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    const auto t0 = std::chrono::steady_clock::now();

    std::vector<std::string> sim_args = {(bin / "rigsim").string(), "--population", o.population, "--dir", (run / "sim").string(),
                                         "--station", "camp", "--jigs", std::to_string(o.nests), "--seed", std::to_string(o.seed)};
    if (o.units > 0) sim_args.insert(sim_args.end(), {"--units", std::to_string(o.units)});
    auto sim = Child::spawn(sim_args, run / "rigsim.out", run / "rigsim.err");
    auto sim_said = [&](const char* what) { return slurp(run / "rigsim.out").find(what) != std::string::npos; };
    while (!sim_said("rigsim: ready") && !sim.poll() && !g_interrupted) std::this_thread::sleep_for(20ms);
    if (!sim_said("rigsim: ready")) {
        const auto err = slurp(run / "rigsim.err");
        sim.stop();
        fmt::print(stderr, "{}", err.empty() ? "rigctl: campaign: rigsim did not start\n" : err);
        return g_interrupted ? 130 : 2;
    }
    auto rigd = Child::spawn(rigd_args(bin, run, o), run / "rigd.out", run / "rigd.err");
    // Until every unit is tested and unloaded (or a child gives up, or the line stalls: rigd
    // says nothing to its operators for stall_timeout_s, or the user interrupts).
    const bool stalled = !wait_for_line(run, o.stall_timeout_s, sim_said, sim, rigd);
    const bool partial = !sim_said("rigsim: done");
    const auto [rss_mib, cpu_s] = rigd.poll() ? std::pair{0.0, 0.0} : usage_of(rigd.pid);
    const int rigd_code = rigd.stop(30s);  // SIGTERM: every nest made safe
    sim.stop();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const auto truth = read_truth(run / "sim" / "units.tsv");
    const auto outcomes = read_outcomes(run / "data", slurp(run / "rigd.out"));
    std::vector<Truth> judged;
    for (const auto& t : truth)
        if (!partial || outcomes.count(t.serial)) judged.push_back(t);  // interrupted: the units that got this far
    auto report = judge(judged, outcomes);
    read_timing(slurp(run / "rigd.err"), report);
    const int safety = safety_violations_of(slurp(run / "rigsim.out"));
    print_report(report, static_cast<int>(judged.size()), o.nests, wall, safety,
                 !partial ? "" : g_interrupted ? "INTERRUPTED" : stalled ? "STALLED" : "STOPPED");
    if (rss_mib > 0)
        fmt::print("rigd: peak RSS {:.1f} MiB, CPU {:.2f} s ({:.3f} s per nest, {:.2f} % of one core per nest)\n", rss_mib, cpu_s,
                   cpu_s / o.nests, 100.0 * cpu_s / o.nests / std::max(wall, 1e-3));
    if (!o.junit.empty()) write_junit(o.junit, report, fs::path(o.population).stem().string(), safety);
    if (!o.json.empty()) write_json(o.json, report, safety, partial);
    if (rigd_code != 0 && rigd_code != 3)
        fmt::print("rigd exited {} ({}): {}\n", rigd_code, (run / "rigd.err").string(), reports::printable(slurp(run / "rigd.err").substr(0, 300)));
    if (g_interrupted) {
        fmt::print("campaign: interrupted; children stopped; logs in {}\n", run.string());
        return 130;
    }
    if (stalled) {
        fmt::print("campaign: STALLED: no verdict from rigd for {} s; children stopped; logs in {}\n", o.stall_timeout_s, run.string());
        return 1;
    }
    if (partial) {
        fmt::print("campaign: rigsim or rigd stopped before every unit was tested; logs in {}\n", run.string());
        return 1;
    }
    return report.problems.empty() && safety == 0 ? 0 : 1;
}

}  // namespace rig::app
