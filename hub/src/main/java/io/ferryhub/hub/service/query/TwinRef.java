package io.ferryhub.hub.service.query;

import java.util.Comparator;

/** Names one twin; ordered as the registry orders identities (device id, then its modules by id). */
record TwinRef(String deviceId, String moduleId) implements Comparable<TwinRef> {
    private static final Comparator<TwinRef> ORDER = Comparator.comparing(TwinRef::deviceId)
            .thenComparing(TwinRef::moduleId, Comparator.nullsFirst(Comparator.naturalOrder()));

    @Override
    public int compareTo(TwinRef other) {
        return ORDER.compare(this, other);
    }
}
