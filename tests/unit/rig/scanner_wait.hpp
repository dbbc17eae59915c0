// What the scanner tests share: a BarcodeScanner whose reports are collected, and a wait for
// them on the io_context the scanner reads on.
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <doctest/doctest.h>
#include <functional>
#include <string>
#include <vector>

#include "rig/devices/scanner.hpp"

namespace rig::test {

struct ScannerProbe {
    std::vector<scanner::Scan> reads;
    std::vector<std::string> availability, log;
    bool done = false;
    devices::BarcodeScanner scanner;

    explicit ScannerProbe(std::string setting)
        : scanner(std::move(setting), devices::BarcodeScanner::Events{
                                          [this](const scanner::Scan& s) { reads.push_back(s); },
                                          [this](const std::string& p) { availability.push_back(p); },
                                          [this](const std::string& l) { log.push_back(l); },
                                      }) {}

    void start(boost::asio::any_io_executor ex) {
        boost::asio::co_spawn(ex, scanner.run(), [this](std::exception_ptr e) {
            done = true;
            if (e) std::rethrow_exception(e);
        });
    }
};

// Waits (on the io_context, so the scanner reads meanwhile) until `ready` or 5 s.
inline boost::asio::awaitable<bool> wait_until(std::function<bool()> ready) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
    for (int i = 0; i < 500; ++i) {
        if (ready()) co_return true;
        t.expires_after(std::chrono::milliseconds(10));
        co_await t.async_wait(boost::asio::use_awaitable);
    }
    co_return ready();
}

}  // namespace rig::test
