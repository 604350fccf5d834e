package io.ferryhub.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No test in any module waits for a condition by sleeping: tests poll with a deadline through test-support's
 * {@code Await}. A sleep is allowed only where it is the thing under test (a slow peer) or where time itself must pass,
 * and each such place is listed here with its count, so that a new one is a decision made in review. The rule reads
 * every module's {@code src/test/java} and test-support's {@code src/main/java} (helpers only tests depend on).
 */
class NoSleepInTestsTest {

    /** Matches a call of Thread's {@code sleep} and of a TimeUnit's: {@code TimeUnit.X.sleep(}, {@code SECONDS.sleep(}. */
    private static final Pattern SLEEP = Pattern.compile("\\bThread\\s*\\.\\s*sleep\\s*\\(|\\.\\s*sleep\\s*\\(");

    /** File (relative to the repository root, with '/') -> sleeps allowed there, and why. */
    private static final Map<String, Integer> ALLOWED = new TreeMap<>(Map.ofEntries(
            // the polling helper itself: its one pause between two polls of the condition, backing off to 50 ms
            Map.entry("test-support/src/main/java/io/ferryhub/testsupport/Await.java", 1),
            // sleeping on an event loop is what the blocking guard's own test shows it catches
            Map.entry("hub/src/test/java/io/ferryhub/hub/blocking/NoBlockingGuardTest.java", 1)));

    @Test
    void testsPollWithADeadlineInsteadOfSleeping() throws IOException {
        Path root = repositoryRoot();
        Map<String, List<String>> found = new TreeMap<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path module : modules.filter(Files::isDirectory).toList()) {
                List<Path> sources = new ArrayList<>(List.of(module.resolve("src/test/java")));
                if (module.getFileName().toString().equals("test-support")) {
                    // test-support's main sources are test code too: only the modules' tests depend on it
                    sources.add(module.resolve("src/main/java"));
                }
                for (Path tests : sources) {
                    if (!Files.isDirectory(tests)) {
                        continue;
                    }
                    try (Stream<Path> files = Files.walk(tests)) {
                        for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                            if (file.getFileName().toString().equals("NoSleepInTestsTest.java")) {
                                continue; // this file names the pattern
                            }
                            List<String> lines = sleepsIn(file);
                            if (!lines.isEmpty()) {
                                found.put(root.relativize(file).toString().replace('\\', '/'), lines);
                            }
                        }
                    }
                }
            }
        }
        List<String> problems = new ArrayList<>();
        found.forEach((file, lines) -> {
            int allowed = ALLOWED.getOrDefault(file, 0);
            if (lines.size() > allowed) {
                problems.add(file + " sleeps " + lines.size() + " time(s), " + allowed + " allowed: " + lines);
            }
        });
        assertTrue(problems.isEmpty(), "wait for a condition with test-support's Await (poll with a deadline), or, if "
                + "the sleep is the thing under test, add the file to ALLOWED with the reason:\n"
                + String.join("\n", problems));
        // The allow-list shrinks with the code: a fixed place must leave it too.
        ALLOWED.forEach((file, allowed) -> assertEquals(allowed, found.getOrDefault(file, List.of()).size(),
                "ALLOWED is out of date for " + file));
    }

    private static List<String> sleepsIn(Path file) throws IOException {
        List<String> hits = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String code = lines.get(i);
            int comment = code.indexOf("//");
            if (comment >= 0) {
                code = code.substring(0, comment);
            }
            Matcher m = SLEEP.matcher(code);
            while (m.find()) {
                hits.add("line " + (i + 1));
            }
        }
        return hits;
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.isDirectory(dir.resolve("hub")) && Files.isDirectory(dir.resolve("common"))
                && Files.exists(dir.resolve("pom.xml")))) {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "the repository root was not found above " + Path.of("").toAbsolutePath());
        return dir;
    }
}
