package io.ferryhub.testsupport.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A small seeded mutation fuzzer for JUnit: it feeds a target every input of a corpus (the files under
 * {@code src/test/resources/fuzz/<name>/} of the module whose test runs it, found on the test class path), then
 * mutations of them (bit flips, interesting bytes and lengths, inserted, deleted and duplicated ranges, splices of two
 * inputs, dictionary words) until its budget is spent. A target handles
 * the failure modes its parser documents (a typed exception, a clean close); anything else that escapes it, an error
 * such as StackOverflowError or OutOfMemoryError included, fails the test, and so does an input the target does not
 * finish within the per-input deadline. A failing input is written to {@code target/fuzz-findings/<name>/}, relative to
 * the working directory (Surefire runs a module's tests in its basedir, so that is the module's own target/), and its
 * seed and iteration are in the failure message, so the run can be repeated exactly.
 *
 * <p>System properties: {@code fuzz.seconds} (budget per target, default 2), {@code fuzz.iterations} (a fixed number
 * of mutated inputs instead of a time budget), {@code fuzz.seed} (default 1: CI runs the same inputs every time),
 * {@code fuzz.inputTimeoutMillis} (default 5000). {@code scripts/fuzz SECONDS} runs every fuzzer with a longer budget.
 */
public final class Fuzzer {
    /** An input's run: throws only for what the parser under test does not document. */
    @FunctionalInterface
    public interface Target {
        void run(byte[] input) throws Exception;
    }

    private static final int MAX_INPUT = 64 * 1024;
    private static final int[] INTERESTING_8 = {0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40};
    private static final int[] INTERESTING_32 = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
            0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 64 * 1024, 1 << 20};

    private final String name;
    private final List<byte[]> corpus;
    private final List<byte[]> dictionary = new ArrayList<>();
    private final Random random;
    private final long seed;

    private Fuzzer(String name, List<byte[]> corpus, long seed) {
        this.name = name;
        this.corpus = corpus;
        this.seed = seed;
        this.random = new Random(seed);
    }

    /** A fuzzer over the corpus in {@code fuzz/<name>/} on the test class path. */
    public static Fuzzer forCorpus(String name) {
        return new Fuzzer(name, loadCorpus(name), Long.getLong("fuzz.seed", 1L));
    }

    /** Words the mutator inserts or overwrites with (keywords, topic segments, field names). */
    public Fuzzer dictionary(String... words) {
        for (String w : words) {
            dictionary.add(w.getBytes(StandardCharsets.UTF_8));
        }
        return this;
    }

    public List<byte[]> corpus() {
        return corpus;
    }

    /** Runs the corpus, then mutated inputs until the budget is spent; returns how many inputs ran. */
    public long run(Target target) throws Exception {
        Duration budget = Duration.ofMillis((long) (Double.parseDouble(System.getProperty("fuzz.seconds", "2"))
                * 1000));
        long iterations = Long.getLong("fuzz.iterations", -1L);
        long inputTimeout = Long.getLong("fuzz.inputTimeoutMillis", 5000L);
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-" + name); // the default stack, as the hub's own threads have
            t.setDaemon(true);
            return t;
        });
        long ran = 0;
        try {
            for (int i = 0; i < corpus.size(); i++) {
                runOne(worker, target, corpus.get(i), "corpus entry " + i, inputTimeout);
                ran++;
            }
            long deadline = System.nanoTime() + budget.toNanos();
            for (long i = 0; iterations >= 0 ? i < iterations : System.nanoTime() - deadline < 0; i++) {
                byte[] input = mutate();
                runOne(worker, target, input, "seed " + seed + " iteration " + i, inputTimeout);
                ran++;
            }
        } finally {
            worker.shutdownNow();
        }
        System.out.println("fuzzer " + name + ": " + ran + " inputs (seed " + seed + ")");
        return ran;
    }

    private void runOne(ExecutorService worker, Target target, byte[] input, String which, long timeoutMillis)
            throws Exception {
        Future<?> result = worker.submit(() -> {
            target.run(input);
            return null;
        });
        try {
            result.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            result.cancel(true);
            throw failure(input, which, "no answer within " + timeoutMillis + " ms (a hang?)", null);
        } catch (ExecutionException e) {
            throw failure(input, which, "undocumented failure: " + e.getCause(), e.getCause());
        }
    }

    private AssertionError failure(byte[] input, String which, String what, Throwable cause) {
        String file = "(not saved)";
        try {
            Path dir = Path.of("target", "fuzz-findings", name);
            Files.createDirectories(dir);
            Path saved = dir.resolve(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(input))
                    + ".bin");
            Files.write(saved, input);
            file = saved.toAbsolutePath().toString();
        } catch (IOException | NoSuchAlgorithmException ignored) {
            // the message still carries the input
        }
        String b64 = Base64.getEncoder().encodeToString(input);
        return new AssertionError(name + " fuzzer, " + which + ": " + what + "\ninput (" + input.length
                + " bytes, saved to " + file + "): " + (b64.length() > 4000 ? b64.substring(0, 4000) + "..." : b64),
                cause);
    }

    // ---- mutation -----------------------------------------------------------------------------------------------

    private byte[] mutate() {
        byte[] data = corpus.get(random.nextInt(corpus.size())).clone();
        int rounds = 1 + random.nextInt(random.nextInt(8) + 1);
        for (int r = 0; r < rounds; r++) {
            data = mutateOnce(data);
            if (data.length > MAX_INPUT) {
                data = java.util.Arrays.copyOf(data, MAX_INPUT);
            }
        }
        return data;
    }

    /** A random number in [0, n), n &gt; 0. */
    public int below(int n) {
        return random.nextInt(n);
    }

    private byte[] mutateOnce(byte[] d) {
        int op = random.nextInt(dictionary.isEmpty() ? 9 : 11);
        if (d.length == 0 && op < 7) {
            op = 7;
        }
        switch (op) {
            case 0 -> { // flip a bit
                int i = random.nextInt(d.length);
                d[i] ^= (byte) (1 << random.nextInt(8));
                return d;
            }
            case 1 -> { // a random byte
                d[random.nextInt(d.length)] = (byte) random.nextInt(256);
                return d;
            }
            case 2 -> { // an interesting byte
                d[random.nextInt(d.length)] = (byte) INTERESTING_8[random.nextInt(INTERESTING_8.length)];
                return d;
            }
            case 3 -> { // an interesting 16- or 32-bit big-endian number (lengths, counts)
                int v = INTERESTING_32[random.nextInt(INTERESTING_32.length)];
                int width = random.nextBoolean() ? 2 : 4;
                int at = random.nextInt(d.length);
                for (int k = 0; k < width && at + k < d.length; k++) {
                    d[at + k] = (byte) (v >>> (8 * (width - 1 - k)));
                }
                return d;
            }
            case 4 -> { // delete a range
                int from = random.nextInt(d.length);
                int len = 1 + random.nextInt(Math.min(16, d.length - from));
                return concat(slice(d, 0, from), slice(d, from + len, d.length));
            }
            case 5 -> { // duplicate a range
                int from = random.nextInt(d.length);
                int len = 1 + random.nextInt(Math.min(64, d.length - from));
                int at = random.nextInt(d.length + 1);
                return concat(slice(d, 0, at), slice(d, from, from + len), slice(d, at, d.length));
            }
            case 6 -> { // truncate
                return slice(d, 0, random.nextInt(d.length));
            }
            case 7 -> { // insert random bytes
                byte[] ins = new byte[1 + random.nextInt(8)];
                random.nextBytes(ins);
                int at = random.nextInt(d.length + 1);
                return concat(slice(d, 0, at), ins, slice(d, at, d.length));
            }
            case 8 -> { // splice with another corpus entry
                byte[] other = corpus.get(random.nextInt(corpus.size()));
                int at = random.nextInt(d.length + 1);
                int from = other.length == 0 ? 0 : random.nextInt(other.length);
                return concat(slice(d, 0, at), slice(other, from, other.length));
            }
            case 9 -> { // insert a dictionary word
                byte[] w = dictionary.get(random.nextInt(dictionary.size()));
                int at = random.nextInt(d.length + 1);
                return concat(slice(d, 0, at), w, slice(d, at, d.length));
            }
            default -> { // overwrite with a dictionary word
                byte[] w = dictionary.get(random.nextInt(dictionary.size()));
                if (d.length == 0) {
                    return w.clone();
                }
                int at = random.nextInt(d.length);
                byte[] out = d.length >= at + w.length ? d : java.util.Arrays.copyOf(d, at + w.length);
                System.arraycopy(w, 0, out, at, w.length);
                return out;
            }
        }
    }

    private static byte[] slice(byte[] d, int from, int to) {
        return java.util.Arrays.copyOfRange(d, from, Math.max(from, to));
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    // ---- corpus -------------------------------------------------------------------------------------------------

    private static List<byte[]> loadCorpus(String name) {
        // The corpus is a resource of the test module, not of this jar: ask the test's class loader first.
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        URL url = loader == null ? null : loader.getResource("fuzz/" + name);
        if (url == null) {
            url = Fuzzer.class.getClassLoader().getResource("fuzz/" + name);
        }
        if (url == null) {
            throw new AssertionError("no corpus on the class path at fuzz/" + name);
        }
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            List<byte[]> out = new ArrayList<>();
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                try (InputStream in = Files.newInputStream(f)) {
                    out.add(in.readAllBytes());
                }
            }
            if (out.isEmpty()) {
                throw new AssertionError("empty corpus at " + url);
            }
            return out;
        } catch (IOException | URISyntaxException e) {
            throw new AssertionError("cannot read the corpus at " + url, e);
        }
    }
}
