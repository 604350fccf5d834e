package io.ferryhub.bench.mqtt;

import java.util.ArrayList;
import java.util.List;

/** One shape of telemetry load: how many devices, each keeping how many QoS 1 messages in flight. */
record TelemetryShape(int devices, int window) {

    TelemetryShape {
        if (devices < 1 || window < 1) {
            throw new IllegalArgumentException("a shape needs at least 1 device and 1 message in flight, got "
                    + devices + "x" + window);
        }
    }

    /** Parses {@code "10x1,10x4,100x1"}: devices x messages in flight, comma-separated. */
    static List<TelemetryShape> parseList(String text) {
        List<TelemetryShape> shapes = new ArrayList<>();
        for (String part : text.split(",")) {
            String[] numbers = part.trim().split("x");
            if (numbers.length != 2) {
                throw new IllegalArgumentException("--shapes takes devicesxwindow,... (e.g. 10x1,1000x4), got '"
                        + part + "'");
            }
            shapes.add(new TelemetryShape(Integer.parseInt(numbers[0]), Integer.parseInt(numbers[1])));
        }
        return shapes;
    }

    /** The shape's name in the report, e.g. {@code 10x1}. */
    String label() {
        return devices + "x" + window;
    }
}
