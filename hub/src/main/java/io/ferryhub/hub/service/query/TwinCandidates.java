package io.ferryhub.hub.service.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.query.QueryAst.Collection;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.service.twin.TwinService;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.SortedSet;

/** The twins a query looks at, in id order, lazily: planned ones by lookup, or all of a collection by scan. */
final class TwinCandidates {
    private static final int PAGE = 500;

    record Candidate(TwinRef ref, JsonNode twin) {
    }

    private TwinCandidates() {
    }

    /** The planned twins after {@code after}; ones whose identity is gone are skipped. */
    static Iterator<Candidate> of(TwinService twins, SortedSet<TwinRef> planned, Collection from, TwinRef after) {
        Iterator<TwinRef> refs = (after == null ? planned : planned.tailSet(after)).iterator();
        return new LazyIterator() {
            @Override
            Candidate fetch() {
                while (refs.hasNext()) {
                    TwinRef ref = refs.next();
                    if (after != null && ref.compareTo(after) <= 0) {
                        continue;
                    }
                    if ((ref.moduleId() == null) != (from == Collection.DEVICES)) {
                        continue;
                    }
                    Optional<ObjectNode> twin = twins.find(ref.deviceId(), ref.moduleId());
                    if (twin.isPresent()) {
                        return new Candidate(ref, twin.get());
                    }
                }
                return null;
            }
        };
    }

    /** Every device twin (or module twin) after {@code after}, reading the registry a page at a time. */
    static Iterator<Candidate> scan(TwinService twins, RegistryService registry, Collection from, TwinRef after) {
        ArrayDeque<Candidate> buffer = new ArrayDeque<>();
        return new LazyIterator() {
            String lastDevice = after == null ? null : after.deviceId();
            boolean exhausted;
            boolean resumedModules = after == null || from == Collection.DEVICES;

            @Override
            Candidate fetch() {
                while (buffer.isEmpty() && !exhausted) {
                    if (!resumedModules) {
                        // the rest of the modules of the device the previous page stopped in
                        resumedModules = true;
                        registry.findDevice(after.deviceId()).ifPresent(d -> addModules(d, after.moduleId()));
                        continue;
                    }
                    List<Device> devices = registry.devices(lastDevice, PAGE);
                    if (devices.size() < PAGE) {
                        exhausted = true;
                    }
                    for (Device d : devices) {
                        if (from == Collection.DEVICES) {
                            buffer.add(new Candidate(new TwinRef(d.deviceId(), null), twins.twinOf(d, null)));
                        } else {
                            addModules(d, null);
                        }
                        lastDevice = d.deviceId();
                    }
                }
                return buffer.poll();
            }

            private void addModules(Device d, String afterModule) {
                List<Module> modules;
                try {
                    modules = registry.modules(d.deviceId());
                } catch (HubException deletedMeanwhile) {
                    return;
                }
                for (Module m : modules) {
                    if (afterModule == null || m.moduleId().compareTo(afterModule) > 0) {
                        buffer.add(new Candidate(new TwinRef(d.deviceId(), m.moduleId()), twins.twinOf(d, m)));
                    }
                }
            }
        };
    }

    private abstract static class LazyIterator implements Iterator<Candidate> {
        private Candidate next;
        private boolean done;

        abstract Candidate fetch();

        @Override
        public boolean hasNext() {
            if (next == null && !done) {
                next = fetch();
                done = next == null;
            }
            return next != null;
        }

        @Override
        public Candidate next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Candidate c = next;
            next = null;
            return c;
        }
    }
}
