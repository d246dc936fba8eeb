#!/usr/bin/env node
// Every function and layer of the orders example, deployed from the zips `hatch build -t lambda`
// wrote to ../dist-lambda, with the runtime, architecture and handler their manifests record.
import * as path from "node:path";
import * as cdk from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { readArtifacts } from "../lib/artifacts";

const prefix = "orders"; // names as in [tool.hatch.publish.lambda]: orders-api, orders-deps

class OrdersStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: cdk.StackProps & { distLambda: string }) {
    super(scope, id, props);
    const artifacts = [...readArtifacts(props.distLambda).values()];

    const layers = new Map<string, lambda.LayerVersion>();
    for (const a of artifacts.filter((a) => a.kind === "layer")) {
      layers.set(
        a.name,
        new lambda.LayerVersion(this, `Layer-${a.name}`, {
          layerVersionName: `${prefix}-${a.name}`,
          // A zip is used as it is: CDK copies the file into cdk.out and uploads those bytes.
          code: lambda.Code.fromAsset(a.zip),
          compatibleRuntimes: a.runtimes.map((r) => new lambda.Runtime(r, lambda.RuntimeFamily.PYTHON)),
          compatibleArchitectures: [lambda.Architecture.custom(a.architecture)],
        }),
      );
    }

    const role = new iam.Role(this, "FunctionRole", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaBasicExecutionRole"),
      ],
    });

    for (const a of artifacts.filter((a) => a.kind === "function")) {
      new lambda.Function(this, `Function-${a.name}`, {
        functionName: `${prefix}-${a.name}`,
        code: lambda.Code.fromAsset(a.zip),
        runtime: new lambda.Runtime(a.runtime, lambda.RuntimeFamily.PYTHON),
        architecture: lambda.Architecture.custom(a.architecture),
        handler: a.handler!,
        layers: a.layers.map((name) => {
          const layer = layers.get(name);
          if (layer === undefined) throw new Error(`${a.name} needs the layer ${name}, not built`);
          return layer;
        }),
        role,
        memorySize: 256,
        timeout: cdk.Duration.seconds(10),
      });
    }
  }
}

const app = new cdk.App();
// No account or region here: the stack deploys to the ones `cdk deploy` is given (or the
// profile's), and synthesizes without any.
new OrdersStack(app, "Orders", { distLambda: path.join(__dirname, "..", "..", "dist-lambda") });
