# Thin wrapper over meson/ninja for the usual verbs.
BUILD ?= build

.PHONY: all install test format clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

install: all
	meson install -C $(BUILD)

test:
	./scripts/test.sh

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
