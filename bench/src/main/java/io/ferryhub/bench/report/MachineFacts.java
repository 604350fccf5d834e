package io.ferryhub.bench.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a result depends on besides the code: cores, memory, kernel, Java. */
public final class MachineFacts {
    private MachineFacts() {
    }

    public static ObjectNode collect() {
        ObjectNode node = Json.object();
        node.put("cores", Runtime.getRuntime().availableProcessors());
        node.put("memoryBytes", memTotalBytes());
        node.put("cpuModel", cpuModel());
        node.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        node.put("arch", System.getProperty("os.arch"));
        node.put("javaVersion", System.getProperty("java.version"));
        node.put("javaVm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        node.put("openFileLimit", ProcessFacts.openFileLimit());
        return node;
    }

    private static long memTotalBytes() {
        for (String line : lines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    private static String cpuModel() {
        for (String line : lines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return "unknown";
    }

    static java.util.List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            return java.util.List.of();
        }
    }
}
