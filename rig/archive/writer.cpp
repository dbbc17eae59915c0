#include "rig/archive/writer.hpp"

#include <algorithm>
#include <iterator>
#include <set>

namespace rig::archive {

Writer::Writer() : thread_([this] { loop(); }), exporter_([this] { export_loop(); }) {}

Writer::~Writer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();  // every commit done, every export queued
    {
        std::lock_guard lock(mutex_);
        exporter_stopping_ = true;
    }
    export_wake_.notify_one();
    exporter_.join();
}

void Writer::commit(Ledger& ledger, reports::Certificate& cert, Done done) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(Item{&ledger, &cert, std::move(done), {}});
    }
    wake_.notify_one();
}

void Writer::run(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(Item{nullptr, nullptr, {}, std::move(job)});
    }
    wake_.notify_one();
}

Writer::Stats Writer::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void Writer::flush_exports() {
    std::unique_lock lock(mutex_);
    const auto target = exports_queued_;
    exported_.wait(lock, [&] { return exports_done_ >= target; });
}

// Takes what is queued: jobs one at a time, in order; a run of commits as one batch, a ledger at
// most once (its next certificate continues the chain, so it waits for the next batch).
void Writer::loop() {
    for (;;) {
        std::vector<Item> batch;
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything done
            if (!queue_.front().ledger) {
                job = std::move(queue_.front().job);
                queue_.pop_front();
            } else {
                for (auto it = queue_.begin(); it != queue_.end() && it->ledger;) {
                    const bool twice = std::any_of(batch.begin(), batch.end(), [&](const Item& b) { return b.ledger == it->ledger; });
                    if (twice) {
                        ++it;
                        continue;
                    }
                    batch.push_back(std::move(*it));
                    it = queue_.erase(it);
                }
            }
        }
        if (job) job();
        else commit_batch(batch);
    }
}

void Writer::commit_batch(std::vector<Item>& batch) {
    std::vector<Ledger::Entry> entries;
    entries.reserve(batch.size());
    for (auto& i : batch) entries.push_back({i.ledger, i.cert});
    std::vector<Ledger::Export> exports;
    auto results = Ledger::commit_batch(entries, &exports);
    {
        std::lock_guard lock(mutex_);
        ++stats_.batches;
        stats_.certificates += batch.size();
        stats_.largest = std::max(stats_.largest, batch.size());
        exports_queued_ += exports.size();
        std::move(exports.begin(), exports.end(), std::back_inserter(exports_));
    }
    export_wake_.notify_one();
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
}

// Writes what is queued in one go; of a station's checkpoint files only the newest is written.
void Writer::export_loop() {
    for (;;) {
        std::vector<Ledger::Export> take;
        {
            std::unique_lock lock(mutex_);
            export_wake_.wait(lock, [&] { return exporter_stopping_ || !exports_.empty(); });
            if (exports_.empty()) return;
            take.assign(std::make_move_iterator(exports_.begin()), std::make_move_iterator(exports_.end()));
            exports_.clear();
        }
        const auto taken = take.size();
        std::vector<Ledger::Export> write;
        std::set<std::filesystem::path> newest;  // checkpoint files already taken, walking back from the newest
        for (auto it = take.rbegin(); it != take.rend(); ++it)
            if (!it->checkpoint || newest.insert(it->write.file).second) write.push_back(std::move(*it));
        std::reverse(write.begin(), write.end());
        (void)Ledger::write_exports(std::move(write));
        {
            std::lock_guard lock(mutex_);
            exports_done_ += taken;
        }
        exported_.notify_all();
    }
}

}  // namespace rig::archive
