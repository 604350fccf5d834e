package io.ferryhub.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line arguments: positionals, {@code --name value} (or {@code --name=value}) options, which may repeat,
 * and {@code --switch} flags. Every option and flag a command reads must be declared; anything else is a usage error.
 */
final class Args {
    private final List<String> positionals = new ArrayList<>();
    private final Map<String, List<String>> options = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    private Args() {
    }

    /** @param valued the options that take a value; {@code switches} the ones that don't */
    /** Two option sets as one, for a command that takes another's options as well as its own. */
    static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return all;
    }

    static Args parse(List<String> argv, Set<String> valued, Set<String> switches) {
        Args args = new Args();
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            if (!a.startsWith("--") || a.equals("--")) {
                args.positionals.add(a);
                continue;
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (switches.contains(name) && value == null) {
                args.flags.add(name);
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= argv.size()) {
                        throw CliException.usage("--" + name + " needs a value");
                    }
                    value = argv.get(++i);
                }
                args.options.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } else {
                throw CliException.usage("unknown option --" + name);
            }
        }
        return args;
    }

    List<String> positionals() {
        return positionals;
    }

    String positional(int index, String what) {
        if (index >= positionals.size()) {
            throw CliException.usage("missing " + what);
        }
        return positionals.get(index);
    }

    void expectPositionals(int count) {
        if (positionals.size() > count) {
            throw CliException.usage("unexpected argument '" + positionals.get(count) + "'");
        }
    }

    String option(String name) {
        List<String> values = options.get(name);
        return values == null ? null : values.get(values.size() - 1);
    }

    List<String> options(String name) {
        return options.getOrDefault(name, List.of());
    }

    int intOption(String name, int defaultValue) {
        String value = option(name);
        if (value == null) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw CliException.usage("--" + name + " must be a number, not '" + value + "'");
        }
    }

    boolean flag(String name) {
        return flags.contains(name);
    }
}
