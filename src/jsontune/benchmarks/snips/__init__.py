"""The SNIPS slot-filling benchmark: conversion to the contract, its split builder, slot-value augmentation,
span schemas for constrained decoding, the learning-curve run and its report."""
