// A stand-in for libFuzzer's main when building with g++: replays every file of the corpus
// directories given, then feeds mutations of them (byte flips, inserts, deletes, splices) from a
// fixed seed until the time or iteration budget runs out. Not coverage-guided: scripts/fuzz runs
// the real libFuzzer; this keeps every target exercised on every CI run.
//
// usage: TARGET [-max_total_time=S] [-runs=N] [-seed=N] CORPUS_DIR...
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
    double seconds = 5;
    long runs = 1'000'000;
    unsigned seed = 1;
    std::vector<std::vector<std::uint8_t>> corpus;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("-max_total_time=", 0) == 0) seconds = std::stod(a.substr(16));
        else if (a.rfind("-runs=", 0) == 0) runs = std::stol(a.substr(6));
        else if (a.rfind("-seed=", 0) == 0) seed = static_cast<unsigned>(std::stoul(a.substr(6)));
        else if (std::filesystem::is_directory(a)) {
            for (const auto& e : std::filesystem::directory_iterator(a)) {
                std::ifstream in(e.path(), std::ios::binary);
                corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            }
        } else {
            std::fprintf(stderr, "%s: no such corpus directory: %s\n", argv[0], a.c_str());
            return 2;
        }
    }
    for (const auto& c : corpus) LLVMFuzzerTestOneInput(c.data(), c.size());
    if (corpus.empty()) corpus.push_back({});
    std::mt19937 rng(seed);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    long n = 0;
    for (; n < runs && std::chrono::steady_clock::now() < deadline; ++n) {
        auto input = corpus[rng() % corpus.size()];
        const int edits = 1 + static_cast<int>(rng() % 8);
        for (int e = 0; e < edits; ++e) {
            switch (rng() % 5) {
            case 0: if (!input.empty()) input[rng() % input.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
            case 1: input.insert(input.begin() + static_cast<long>(input.empty() ? 0 : rng() % input.size()), static_cast<std::uint8_t>(rng())); break;
            case 2: if (!input.empty()) input.erase(input.begin() + static_cast<long>(rng() % input.size())); break;
            case 3: if (!input.empty()) input[rng() % input.size()] = static_cast<std::uint8_t>(rng()); break;
            case 4: {
                const auto& other = corpus[rng() % corpus.size()];
                input.insert(input.end(), other.begin(), other.end());
                break;
            }
            }
        }
        if (input.size() > 4096) input.resize(4096);
        LLVMFuzzerTestOneInput(input.data(), input.size());
    }
    std::printf("%s: %zu corpus inputs replayed, %ld mutated runs, no crash\n", argv[0], corpus.size(), n);
    return 0;
}
