package io.ferryhub.common.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Metrics in Prometheus' text exposition format 0.0.4: counters and histograms the code updates, and values read
 * at scrape time (gauges, and counters kept elsewhere). Label values must come from small fixed sets (reasons,
 * protocols), never from identities, so the number of series stays bounded.
 */
public final class Metrics {
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final List<Family> families = new CopyOnWriteArrayList<>();

    private interface Family {
        void write(StringBuilder out);
    }

    /** A counter with labels; {@code inc} takes the label values in the order the names were given. */
    public Counter counter(String name, String help, String... labelNames) {
        Counter c = new Counter(name, help, labelNames);
        families.add(c);
        return c;
    }

    /** Values read when scraped: one series per map entry, labelled {@code label=key}. */
    public void sampled(String name, String help, String type, String label, Supplier<Map<String, ? extends Number>> values) {
        families.add(out -> {
            header(out, name, help, type);
            for (Map.Entry<String, ? extends Number> e : values.get().entrySet()) {
                out.append(name).append('{').append(label).append("=\"").append(escape(e.getKey())).append("\"} ")
                        .append(number(e.getValue().doubleValue())).append('\n');
            }
        });
    }

    /** One value read when scraped; {@code type} is {@code gauge} or {@code counter}. */
    public void sampled(String name, String help, String type, Supplier<? extends Number> value) {
        families.add(out -> {
            header(out, name, help, type);
            out.append(name).append(' ').append(number(value.get().doubleValue())).append('\n');
        });
    }

    /** A histogram with these upper bounds (seconds, bytes...), ascending; +Inf is added. */
    public Histogram histogram(String name, String help, double... bounds) {
        Histogram h = new Histogram(name, help, bounds);
        families.add(h);
        return h;
    }

    /** Adds another registry's families to this one's scrape (a hub includes its embedded gateway's). */
    public void include(Metrics other) {
        families.add(other::writeTo);
    }

    public String scrape() {
        StringBuilder out = new StringBuilder(4096);
        writeTo(out);
        return out.toString();
    }

    private void writeTo(StringBuilder out) {
        for (Family f : families) {
            f.write(out);
        }
    }

    public static final class Counter implements Family {
        private final String name;
        private final String help;
        private final String[] labelNames;
        private final Map<List<String>, LongAdder> series = new ConcurrentHashMap<>();

        private Counter(String name, String help, String[] labelNames) {
            this.name = name;
            this.help = help;
            this.labelNames = labelNames.clone();
        }

        public void inc(String... labelValues) {
            add(1, labelValues);
        }

        public void add(long amount, String... labelValues) {
            if (labelValues.length != labelNames.length) {
                throw new IllegalArgumentException(name + " takes labels " + Arrays.toString(labelNames));
            }
            series.computeIfAbsent(List.of(labelValues), k -> new LongAdder()).add(amount);
        }

        @Override
        public void write(StringBuilder out) {
            header(out, name, help, "counter");
            List<Map.Entry<List<String>, LongAdder>> entries = new ArrayList<>(series.entrySet());
            entries.sort((a, b) -> String.join("\0", a.getKey()).compareTo(String.join("\0", b.getKey())));
            for (Map.Entry<List<String>, LongAdder> e : entries) {
                out.append(name);
                labels(out, labelNames, e.getKey());
                out.append(' ').append(e.getValue().sum()).append('\n');
            }
        }
    }

    public static final class Histogram implements Family {
        private final String name;
        private final String help;
        private final double[] bounds;
        private final LongAdder[] buckets;
        private final LongAdder count = new LongAdder();
        private final DoubleAdder sum = new DoubleAdder();

        private Histogram(String name, String help, double[] bounds) {
            this.name = name;
            this.help = help;
            this.bounds = bounds.clone();
            this.buckets = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        public void observe(double value) {
            for (int i = 0; i < bounds.length; i++) {
                if (value <= bounds[i]) {
                    buckets[i].increment();
                    break;
                }
            }
            count.increment();
            sum.add(value);
        }

        @Override
        public void write(StringBuilder out) {
            header(out, name, help, "histogram");
            long cumulative = 0;
            for (int i = 0; i < bounds.length; i++) {
                cumulative += buckets[i].sum();
                out.append(name).append("_bucket{le=\"").append(number(bounds[i])).append("\"} ").append(cumulative)
                        .append('\n');
            }
            long total = count.sum();
            out.append(name).append("_bucket{le=\"+Inf\"} ").append(total).append('\n');
            out.append(name).append("_sum ").append(number(sum.sum())).append('\n');
            out.append(name).append("_count ").append(total).append('\n');
        }
    }

    private static void header(StringBuilder out, String name, String help, String type) {
        out.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n"))
                .append('\n').append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void labels(StringBuilder out, String[] names, List<String> values) {
        if (names.length == 0) {
            return;
        }
        out.append('{');
        for (int i = 0; i < names.length; i++) {
            out.append(i == 0 ? "" : ",").append(names[i]).append("=\"").append(escape(values.get(i))).append('"');
        }
        out.append('}');
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String number(double v) {
        if (v == Math.rint(v) && !Double.isInfinite(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%s", v);
    }
}
