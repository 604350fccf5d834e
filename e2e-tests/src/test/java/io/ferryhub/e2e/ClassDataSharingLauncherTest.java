package io.ferryhub.e2e;

import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launchers' class data sharing archive (scripts/lib/class-data-sharing), with a real JVM and a real jar: a first
 * launch records the classes it loads, the next one dumps them into an archive in the background, later launches map
 * it (the program's own class then comes from the archive), and a rebuilt jar or dependency starts the cycle over.
 */
class ClassDataSharingLauncherTest {
    @TempDir
    Path dir;

    @Test
    void recordsThenArchivesThenMapsTheClassesAndStartsOverForANewJar() throws Exception {
        Path jar = helloJar();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

        String first = cdsOptions(java, jar, "on");
        assertTrue(first.startsWith("-XX:DumpLoadedClassList=" + dir.resolve("hello.")), first);
        assertEquals("hello\n", run(java, first, "-jar", jar.toString()));
        Path classList = Path.of(first.substring("-XX:DumpLoadedClassList=".length()));
        assertTrue(Files.readString(classList).contains("Hello"), "the first run's class list names its main class");

        assertEquals("", cdsOptions(java, jar, "on"), "the launch that starts the dump runs without an archive");
        Path archive = Await.value(Duration.ofSeconds(120), () -> archiveIn(dir));
        Await.until("the class list is removed once archived", Duration.ofSeconds(30),
                () -> !Files.exists(classList));

        String mapped = cdsOptions(java, jar, "on");
        assertEquals("-XX:SharedArchiveFile=" + archive + " -Xshare:auto", mapped);
        // -Xshare:on fails instead of running without the archive if the archive does not fit this jar and JVM
        String loaded = run(java, "-XX:SharedArchiveFile=" + archive + " -Xshare:on -Xlog:class+load=info", "-jar",
                jar.toString());
        assertTrue(loaded.lines().anyMatch(l -> l.contains(" Hello source: shared objects file")), loaded);

        assertEquals("", cdsOptions(java, jar, "off"), "FERRYHUB_CDS=off");

        long archived = Files.getLastModifiedTime(archive).toMillis();
        FileTime built = Files.getLastModifiedTime(jar);
        Files.setLastModifiedTime(jar, FileTime.fromMillis(archived + 2000));
        assertTrue(cdsOptions(java, jar, "on").startsWith("-XX:DumpLoadedClassList="),
                "a jar newer than the archive is recorded again");
        Files.setLastModifiedTime(jar, built);
        assertEquals(mapped, cdsOptions(java, jar, "on"));
        Path dependency = Files.createDirectories(dir.resolve("lib")).resolve("dependency.jar");
        Files.writeString(dependency, "");
        Files.setLastModifiedTime(dependency, FileTime.fromMillis(archived + 2000));
        assertTrue(cdsOptions(java, jar, "on").startsWith("-XX:DumpLoadedClassList="),
                "a dependency in lib/ newer than the archive starts over too");
        assertFalse(Files.exists(archive), "the stale archive is removed");
    }

    @Test
    void aClassListStillBeingWrittenIsNotArchived() throws Exception {
        Path jar = helloJar();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String first = cdsOptions(java, jar, "on");
        String base = first.substring("-XX:DumpLoadedClassList=".length(), first.lastIndexOf('.'));
        // named after a process that is running: this test's JVM
        Files.writeString(Path.of(base + "." + ProcessHandle.current().pid()), "java/lang/Object\n");
        assertTrue(cdsOptions(java, jar, "on").startsWith("-XX:DumpLoadedClassList="),
                "a class list whose run is alive is left alone and this launch records its own");
    }

    private static Path archiveIn(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsa")).findFirst().orElse(null);
        }
    }

    /** What the launcher's cds_options prints for this jar. */
    private String cdsOptions(String java, Path jar, String cds) throws Exception {
        Path lib = LauncherMemoryDefaultsTest.repoRoot().resolve("scripts/lib/class-data-sharing");
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", "source \"$1\"; cds_options \"$2\" \"$3\"", "cds",
                lib.toString(), java, jar.toString());
        builder.environment().put("FERRYHUB_CDS", cds);
        return output(builder).trim();
    }

    private static String run(String java, String options, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(List.of(options.split(" ")));
        command.addAll(List.of(args));
        return output(new ProcessBuilder(command));
    }

    private static String output(ProcessBuilder builder) throws Exception {
        Process p = builder.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "still running: " + builder.command());
        assertEquals(0, p.exitValue(), builder.command() + " failed: " + out);
        return out;
    }

    /** A jar with one class, Hello, that prints "hello". */
    private Path helloJar() throws IOException {
        Path src = dir.resolve("src/Hello.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, "public class Hello { public static void main(String[] a) { System.out.println(\"hello\"); } }");
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, compiler.run(null, null, null, "-d", classes.toString(), src.toString()));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "Hello");
        Path jar = dir.resolve("hello.jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            out.putNextEntry(new JarEntry("Hello.class"));
            out.write(Files.readAllBytes(classes.resolve("Hello.class")));
            out.closeEntry();
        }
        return jar;
    }
}
