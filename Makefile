# pg_recommend, built with PGXS.
#   make                 build the extension      make install       install it (as root)
#   make unittest        build and run the C++ unit tests of src/core (GoogleTest)
#   make sanitize        the same unit tests built with AddressSanitizer and UndefinedBehaviorSanitizer
#   make installcheck    pg_regress tests (test/sql -> test/expected) against a running server
#   make prove           pgTAP tests (test/pgtap) against a running server
#   make NATIVE=1        opt in to -march=native (not portable to other CPUs)
EXTENSION = pg_recommend
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" pg_recommend.control)

MODULE_big = pg_recommend
CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
PG_SRCS = $(sort $(wildcard src/pg/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# sql/pg_recommend.sql is the current version's install script. Each release adds an update script
# (sql/pg_recommend--OLD--NEW.sql) and keeps its own install script in sql/history/, so that
# `CREATE EXTENSION pg_recommend VERSION 'OLD'` works and every update path can be tested
# (test/shell/update_paths.sh).
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(wildcard sql/history/$(EXTENSION)--*.sql) $(wildcard sql/$(EXTENSION)--*--*.sql)
EXTRA_CLEAN = test/unit/run_unit_tests test/unit/run_unit_tests_sanitized test/isolation/results test/isolation/output_iso test/results test/regression.diffs test/regression.out

# The bad-input catalogue: one file per SQL function (test/sql/bad_input_<function>.sql).
BAD_INPUT = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/bad_input_*.sql)))
REGRESS = setup train serve serve_filters home_page item_features item_item profile beyond_accuracy ab_test model_health explain lifecycle split tune refresh ids $(BAD_INPUT) garden determinism implicit cancel
REGRESS_OPTS = --inputdir=test --outputdir=test --load-extension=$(EXTENSION)
# isolationtester specs (test/isolation/specs): concurrent sessions, every interleaving listed.
ISOLATION = retrain_vs_recommend train_same_model drop_while_serving
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation --load-extension=$(EXTENSION)

EIGEN_INCLUDE ?= /usr/include/eigen3
PG_CPPFLAGS = -I$(CURDIR)/src -I$(EIGEN_INCLUDE) -DEIGEN_DONT_PARALLELIZE -DEIGEN_NO_DEBUG
PG_CXXFLAGS = -std=c++17 -fopenmp -O3 -Werror -Wno-unknown-pragmas -Wno-register
ifdef NATIVE
PG_CXXFLAGS += -march=native
endif
SHLIB_LINK = -fopenmp -lstdc++

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# LLVM bitcode for JIT inlining is compiled by clang with its own flags: it needs the C++ standard
# too (the include paths come from PG_CPPFLAGS).
BITCODE_CXXFLAGS += -std=c++17 -Wno-register

# PGXS tracks no header dependencies: rebuild every object when any header changes (a stale object
# with an old struct layout crashes the backend).
HEADERS = $(wildcard src/core/*.hpp src/pg/*.hpp)
$(OBJS) $(OBJS:.o=.bc): $(HEADERS)

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql
	cp $< $@

# Unit tests of the numeric core: no PostgreSQL headers or libraries involved.
UNIT_SRCS = $(sort $(wildcard test/unit/*.cpp))
test/unit/run_unit_tests: $(UNIT_SRCS) $(CORE_SRCS) $(wildcard src/core/*.hpp test/unit/*.hpp)
	$(CXX) -std=c++17 -fopenmp -O2 -g -Wall -Wextra -Werror -Isrc -I$(EIGEN_INCLUDE) -DEIGEN_DONT_PARALLELIZE \
		$(UNIT_SRCS) $(CORE_SRCS) -o $@ -lgtest -lgtest_main -pthread

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer; any report fails the run.
test/unit/run_unit_tests_sanitized: $(UNIT_SRCS) $(CORE_SRCS) $(wildcard src/core/*.hpp test/unit/*.hpp)
	$(CXX) -std=c++17 -fopenmp -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		-fno-sanitize-recover=all -Wall -Wextra -Werror -Isrc -I$(EIGEN_INCLUDE) -DEIGEN_DONT_PARALLELIZE \
		$(UNIT_SRCS) $(CORE_SRCS) -o $@ -lgtest -lgtest_main -pthread

.PHONY: unittest sanitize prove print-regress
print-regress:  # for scripts/valgrind.sh
	@echo $(REGRESS)

unittest: test/unit/run_unit_tests
	./test/unit/run_unit_tests

sanitize: test/unit/run_unit_tests_sanitized
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		./test/unit/run_unit_tests_sanitized

prove:
	pg_prove --ext .sql -v test/pgtap/
