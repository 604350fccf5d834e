package io.ferryhub.hub.service.query;

import io.ferryhub.hub.service.query.QueryAst.Collection;
import io.ferryhub.hub.service.query.QueryAst.Path;

import java.util.List;
import java.util.Locale;

/** How query paths map onto the twin document: an optional {@code devices.} / {@code devices.modules.} prefix. */
final class TwinPaths {
    private TwinPaths() {
    }

    /** The path's segments relative to the twin document. */
    static List<String> relative(Path path, Collection from) {
        List<String> s = path.segments();
        if (s.size() > 1 && s.get(0).equalsIgnoreCase("devices")) {
            if (from == Collection.MODULES && s.size() > 2 && s.get(1).equalsIgnoreCase("modules")) {
                return s.subList(2, s.size());
            }
            return s.subList(1, s.size());
        }
        return s;
    }

    /** Whether the twin itself owns the value at this path (so the equality index covers it). */
    static boolean indexable(List<String> relative) {
        if (relative.size() >= 2 && relative.get(0).equalsIgnoreCase("tags")) {
            return !relative.get(1).startsWith("$");
        }
        return relative.size() >= 3 && relative.get(0).equalsIgnoreCase("properties")
                && (relative.get(1).equalsIgnoreCase("desired") || relative.get(1).equalsIgnoreCase("reported"))
                && !relative.get(2).startsWith("$");
    }

    /** The index's name for a twin-owned path: lower-cased, as the evaluator's name matching is case-blind. */
    static String indexKey(List<String> relative) {
        return String.join(".", relative).toLowerCase(Locale.ROOT);
    }
}
