// The mesh, a front door and one meshed namespace with its route, from TypeScript: the SDK that
// `pulumi package add` generates from components/schema.json (docs/library.md). tests/test_examples.py checks
// that every class and property named here is in that schema.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as homelabMesh from "@pulumi/homelab-mesh";

const config = new pulumi.Config();
const hostname = config.get("hostname") ?? "echo.home.arpa";
const cluster = { identifier: "homelab" };
const provider = new k8s.Provider("cluster", { clusterIdentifier: cluster.identifier });
const onCluster = { providers: [provider] };

const lan = new homelabMesh.MetalLB("lan", {
    addressPools: [{ name: "lan", addresses: ["192.168.1.240-192.168.1.250"] }],
    cluster: cluster,
}, onCluster);

const istio = new homelabMesh.IstioAmbient("istio", {
    mtlsMode: "STRICT",
    gatewayApiCrds: {},
}, onCluster);

const apps = new homelabMesh.MeshedNamespace("apps", {
    name: "demo-apps",
    cluster: cluster,
    routed: true,
    options: { create: true },
}, { ...onCluster, dependsOn: [istio] });

const echo = new homelabMesh.DemoApp("echo", {
    namespace: "demo-apps",
}, { ...onCluster, dependsOn: [apps] });

const route = { hostname: hostname, namespace: "demo-apps", rules: [{ service: "echo", port: 80 }] };
const frontDoor = new homelabMesh.IngressGateway("front-door", {
    hostnames: [hostname],
    routes: [route],
}, { ...onCluster, dependsOn: [istio, lan] });

const routes = new homelabMesh.HttpRoutes("routes", {
    routes: [route],
}, { ...onCluster, dependsOn: [frontDoor, apps, echo] });

export const gatewayAddress = frontDoor.address;
export const urls = frontDoor.urls;
export const caCertificatePem = frontDoor.caCertificatePem;
