package io.ferryhub.hub.adapter.mqtt;

/** MQTT 3.1.1 topic filter rules (section 4.7): validity of a filter and matching a topic name against it. */
final class TopicFilter {
    private TopicFilter() {
    }

    /** Whether {@code filter} is a well-formed filter: {@code #} only as the last whole level, {@code +} whole levels. */
    static boolean isValid(String filter) {
        if (filter == null || filter.isEmpty()) {
            return false;
        }
        String[] levels = filter.split("/", -1);
        for (int i = 0; i < levels.length; i++) {
            String level = levels[i];
            if (level.contains("#") && (!level.equals("#") || i != levels.length - 1)) {
                return false;
            }
            if (level.contains("+") && !level.equals("+")) {
                return false;
            }
        }
        return true;
    }

    /** Whether a topic name matches a (valid) filter. Topics starting with {@code $} only match filters that do too. */
    static boolean matches(String filter, String topic) {
        if (topic.startsWith("$") != filter.startsWith("$")) {
            return false;
        }
        String[] f = filter.split("/", -1);
        String[] t = topic.split("/", -1);
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) {
                return true;
            }
            if (i >= t.length) {
                return false;
            }
            if (!f[i].equals("+") && !f[i].equals(t[i])) {
                return false;
            }
        }
        return f.length == t.length;
    }
}
