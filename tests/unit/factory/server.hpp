// The throwaway PostgreSQL server of the factory tests: tests/pg/unit.sh starts it and names it
// in RIG_TEST_PG_URL.
#pragma once
#include <cstdlib>
#include <doctest/doctest.h>

#include "rig/factory/pg.hpp"

namespace rig::factory::test {

inline pg::Connection connect_test_server() {
    const char* url = std::getenv("RIG_TEST_PG_URL");
    REQUIRE_MESSAGE(url, "run through tests/pg/unit.sh, which starts the server");
    auto c = pg::Connection::connect(url);
    REQUIRE_MESSAGE(c, c.error().message);
    return std::move(*c);
}

}  // namespace rig::factory::test
